/**
 * Internal: no compatibility promise. Reading and rewriting server configuration files
 * ({@code postgresql.conf}, {@code pg_hba.conf}): GUC syntax, the block PolarScale owns in a file,
 * atomic rewrites, CIDR parsing. Use {@link dev.polarscale.core.NodeConfig} and
 * {@link dev.polarscale.core.HbaRule} instead.
 */
package dev.polarscale.core.internal.conf;
