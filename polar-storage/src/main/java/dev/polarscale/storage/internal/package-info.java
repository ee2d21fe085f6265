/**
 * Internal: no compatibility promise. The two kinds of shared storage behind
 * {@link dev.polarscale.storage.SharedStorage}, file checks on a host, path and user validation, and
 * the parsers of {@code lsblk} output.
 */
package dev.polarscale.storage.internal;
