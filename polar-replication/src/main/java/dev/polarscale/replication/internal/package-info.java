/**
 * Internal: no compatibility promise. The machinery behind {@link dev.polarscale.replication.ClusterScaler}:
 * the step runner that undoes a failed operation, the cluster lock, the node registry on the primary
 * and base backups.
 */
package dev.polarscale.replication.internal;
