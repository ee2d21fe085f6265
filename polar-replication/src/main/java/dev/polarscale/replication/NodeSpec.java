package dev.polarscale.replication;

import dev.polarscale.core.HostId;
import dev.polarscale.core.Port;
import dev.polarscale.core.Names;
import dev.polarscale.core.SlotName;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A node to add: its name (also its slot name and {@code application_name}), host, port, data
 * directory and, for a PolarDB replica, its {@code polar_hostid}.
 *
 * <pre>{@code
 * NodeSpec spec = NodeSpec.builder()
 *         .name("standby1")
 *         .port(5433)
 *         .dataDirectory(Path.of("/srv/polar/standby1"))
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

    private NodeSpec(Builder b) {
        this.name = b.name;
        this.host = b.host;
        this.port = b.port;
        this.dataDirectory = b.dataDirectory;
        this.hostId = b.hostId;
        this.keepOnFailure = b.keepOnFailure;
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

    @Override
    public String toString() {
        return "NodeSpec[" + name + " " + (host == null ? "<primary host>" : host) + ":" + port + " "
                + dataDirectory + (hostId == null ? "" : " hostid=" + hostId) + "]";
    }

    /** Builds a {@link NodeSpec}; each call rejects a bad value at once. */
    public static final class Builder {
        private String name;
        private String host;
        private Port port;
        private Path dataDirectory;
        private HostId hostId;
        private boolean keepOnFailure;

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
            this.dataDirectory = ClusterSpec.validDirectory(dir, "data directory");
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

        public NodeSpec build() {
            if (name == null) {
                throw new IllegalStateException("node name is required");
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
