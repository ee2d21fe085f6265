package dev.polarscale.core;

import java.util.Optional;

/**
 * What a compute node is, which decides the settings it must have and the file that marks it.
 *
 * <pre>{@code
 * NodeConfig cfg = NodeConfig.replica(port, hostId, storage, primaryConnInfo, slot).build();
 * cfg.role().signalFile().ifPresent(f -> touch(dataDir.resolve(f)));   // replica.signal
 * }</pre>
 */
public enum NodeRole {
    /** The one read-write node. */
    PRIMARY(null),
    /**
     * A PolarDB read-only node on the primary's shared storage. Without {@code replica.signal} it
     * boots read-write on the same storage as the primary: two writers, corruption.
     */
    REPLICA("replica.signal"),
    /** A node with its own copy of the data (plain PostgreSQL, or a PolarDB standby), fed by streaming. */
    STANDBY("standby.signal");

    private final String signalFile;

    NodeRole(String signalFile) {
        this.signalFile = signalFile;
    }

    /** The empty file that must exist in the node's data directory before it starts. */
    public Optional<String> signalFile() {
        return Optional.ofNullable(signalFile);
    }
}
