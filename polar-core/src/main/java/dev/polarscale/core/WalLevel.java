package dev.polarscale.core;

import java.util.Locale;

/**
 * PostgreSQL's {@code wal_level}. Streaming replicas and standbys need {@link #REPLICA} or more
 * on the primary; {@link #MINIMAL} also requires {@code max_wal_senders = 0}.
 *
 * <pre>{@code NodeConfig.primary(port, hostId, storage).walLevel(WalLevel.LOGICAL).build();}</pre>
 */
public enum WalLevel {
    MINIMAL, REPLICA, LOGICAL;

    /** The value as written in {@code postgresql.conf}. */
    public String value() {
        return name().toLowerCase(Locale.ROOT);
    }
}
