/**
 * Internal: no compatibility promise. The local executor (argument lists, timeouts that kill the whole
 * process tree, line-wise output) and the {@code runuser} / {@code sudo -n} identity switch;
 * obtain it from {@link dev.polarscale.core.Executors}.
 */
package dev.polarscale.core.internal.exec;
