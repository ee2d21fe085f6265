/**
 * Internal: no compatibility promise. Extraction of the embedded PostgreSQL binaries (the zonky
 * artifact) into a cache directory, with the optional commons-compress and xz; use
 * {@link dev.polarscale.core.PgBinaries}.
 */
package dev.polarscale.core.internal.pg;
