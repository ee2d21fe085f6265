package dev.polarscale.replication;

import dev.polarscale.core.HostId;
import dev.polarscale.core.Port;
import dev.polarscale.core.Names;
import dev.polarscale.core.SlotName;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A node to add: its name (also its slot name and {@code application_name}), host, port, data
 * directory and, for a PolarDB replica, its {@code polar_hostid}; for a streaming standby, where
 * its copy comes from and how fast it may be read.
 *
 * <pre>{@code
 * NodeSpec spec = NodeSpec.builder()
 *         .name("standby1")
 *         .port(5433)
 *         .dataDirectory(Path.of("/srv/polar/standby1"))
 *         .build();
 * NodeSpec clone = NodeSpec.builder()
 *         .name("standby2").port(5434).dataDirectory(Path.of("/srv/polar/standby2"))
 *         .cloneFrom("standby1")          // copy from this standby, not from the primary
 *         .maxRate(50 * 1024)             // pg_basebackup --max-rate, kB/s
 *         .build();
 * }</pre>
 */
public final class NodeSpec {
    private final String name;
    private final String host;
    private final Port port;
    private final Path dataDirectory;
    private final HostId hostId;
    private final boolean keepOnFailure;
    private final String cloneFrom;
    private final int maxRate;

    private NodeSpec(Builder b) {
        this.name = b.name;
        this.host = b.host;
        this.port = b.port;
        this.dataDirectory = b.dataDirectory;
        this.hostId = b.hostId;
        this.keepOnFailure = b.keepOnFailure;
        this.cloneFrom = b.cloneFrom;
        this.maxRate = b.maxRate;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String name() {
        return name;
    }

    /** The node's host; empty means the primary's host. */
    public Optional<String> host() {
        return Optional.ofNullable(host);
    }

    public Port port() {
        return port;
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    /** The PolarDB {@code polar_hostid}; empty means "the lowest free one". */
    public Optional<HostId> hostId() {
        return Optional.ofNullable(hostId);
    }

    /** The slot name: the node's name with {@code -} turned into {@code _} ({@link SlotName#forNode}). */
    public SlotName slotName() {
        return SlotName.forNode(name);
    }

    /** Keep what a failed add created (for debugging) instead of undoing it. */
    public boolean keepOnFailure() {
        return keepOnFailure;
    }

    /**
     * The registered streaming standby a standby's base backup is copied from; empty means the
     * primary. The new standby streams from the primary afterwards, through its own slot there.
     */
    public Optional<String> cloneFrom() {
        return Optional.ofNullable(cloneFrom);
    }

    /** The base backup's rate limit in kilobytes (1024 bytes) per second; empty means unlimited. */
    public OptionalInt maxRate() {
        return maxRate == 0 ? OptionalInt.empty() : OptionalInt.of(maxRate);
    }

    @Override
    public String toString() {
        return "NodeSpec[" + name + " " + (host == null ? "<primary host>" : host) + ":" + port + " "
                + dataDirectory + (hostId == null ? "" : " hostid=" + hostId)
                + (cloneFrom == null ? "" : " cloneFrom=" + cloneFrom) + (maxRate == 0 ? "" : " maxRate=" + maxRate + "kB/s")
                + "]";
    }

    /** The lowest {@link Builder#maxRate}, in kB/s: {@code pg_basebackup}'s bound. */
    public static final int MIN_RATE = 32;
    /** The highest {@link Builder#maxRate}, in kB/s (1 GB/s): {@code pg_basebackup}'s bound. */
    public static final int MAX_RATE = 1024 * 1024;

    /** Builds a {@link NodeSpec}; each call rejects a bad value at once. */
    public static final class Builder {
        private String name;
        private String host;
        private Port port;
        private Path dataDirectory;
        private HostId hostId;
        private boolean keepOnFailure;
        private String cloneFrom;
        private int maxRate;

        private Builder() {
        }

        /**
         * {@code [a-z]([a-z0-9_-]{0,61}[a-z0-9_])?}, e.g. {@code replica-2}: it doubles as the
         * {@code application_name}; the slot is the name with {@code -} turned into {@code _}.
         */
        public Builder name(String name) {
            this.name = Names.requireNodeName(name, "node name");
            return this;
        }

        /** A host registered in the {@link ClusterSpec}. */
        public Builder host(String host) {
            this.host = ClusterSpec.validHost(host);
            return this;
        }

        public Builder port(int port) {
            this.port = Port.of(port);
            return this;
        }

        public Builder port(Port port) {
            this.port = Objects.requireNonNull(port, "port");
            return this;
        }

        public Builder dataDirectory(Path dir) {
            this.dataDirectory = Names.requireDirectory(dir, "data directory");
            return this;
        }

        public Builder hostId(int id) {
            this.hostId = HostId.of(id);
            return this;
        }

        public Builder hostId(HostId id) {
            this.hostId = Objects.requireNonNull(id, "hostId");
            return this;
        }

        public Builder keepOnFailure(boolean keep) {
            this.keepOnFailure = keep;
            return this;
        }

        /**
         * Copies the new standby's data from this registered streaming standby instead of the
         * primary (for {@link ClusterScaler#addStandby} only), so that the copy's reads load the
         * standby, not the primary. The slot is still created on the primary first and the new
         * standby streams from the primary afterwards. The source must stream and have two free
         * walsenders; it is checked before any change.
         */
        public Builder cloneFrom(String standby) {
            this.cloneFrom = Names.requireNodeName(standby, "clone source");
            return this;
        }

        /**
         * Limits the base backup to this many kilobytes (1024 bytes) per second, 32 to 1048576
         * (1 GB/s), as {@code pg_basebackup --max-rate} takes it; for {@link ClusterScaler#addStandby}
         * only. The source (primary or {@link #cloneFrom} standby) then reads and sends no faster.
         */
        public Builder maxRate(int kilobytesPerSecond) {
            if (kilobytesPerSecond < MIN_RATE || kilobytesPerSecond > MAX_RATE) {
                throw new IllegalArgumentException("maxRate must be " + MIN_RATE + ".." + MAX_RATE
                        + " kB/s (pg_basebackup --max-rate): " + kilobytesPerSecond);
            }
            this.maxRate = kilobytesPerSecond;
            return this;
        }

        public NodeSpec build() {
            if (name == null) {
                throw new IllegalStateException("node name is required");
            }
            if (name.equals(cloneFrom)) {
                throw new IllegalArgumentException(name + " - cloneFrom names the node itself");
            }
            if (port == null) {
                throw new IllegalStateException(name + " - port is required");
            }
            if (dataDirectory == null) {
                throw new IllegalStateException(name + " - dataDirectory is required");
            }
            return new NodeSpec(this);
        }
    }
}
