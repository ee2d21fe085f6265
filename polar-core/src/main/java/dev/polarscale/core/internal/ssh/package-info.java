/**
 * Internal: no compatibility promise. The SSH executor on Apache MINA SSHD (one shared session, strict
 * host-key checking, quoted exec strings); obtain it from {@link dev.polarscale.core.Executors}.
 */
package dev.polarscale.core.internal.ssh;
