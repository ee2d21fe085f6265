package dev.polarscale.replication;

import dev.polarscale.core.NodeRole;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What {@link ClusterScaler#adopt(AdoptOptions)} is told about a running cluster PolarScale did
 * not deploy: the followers it already has (made by hand, by {@code pg_basebackup}, by another
 * tool), so that the scaler knows their names, ports, directories and PolarDB host ids.
 *
 * <pre>{@code
 * AdoptOptions options = AdoptOptions.builder()
 *         .follower(NodeSpec.builder().name("replica1").host("10.0.0.2").port(5433)
 *                 .dataDirectory(Path.of("/home/polar/replica1")).hostId(2).build(), NodeRole.REPLICA)
 *         .build();
 * }</pre>
 *
 * @param followers the followers the cluster has, each with its role (a PolarDB replica with its
 *                  {@code polar_hostid})
 */
public record AdoptOptions(List<Follower> followers) {
    public AdoptOptions {
        followers = List.copyOf(followers);
    }

    /** A follower the cluster already has. */
    public record Follower(NodeSpec node, NodeRole role) {
        public Follower {
            Objects.requireNonNull(node, "node");
            Objects.requireNonNull(role, "role");
            if (role == NodeRole.PRIMARY) {
                throw new IllegalArgumentException(node.name() + " - a follower is a REPLICA or a STANDBY");
            }
            if (role == NodeRole.REPLICA && node.hostId().isEmpty()) {
                throw new IllegalArgumentException(node.name() + " - a PolarDB replica is declared with its "
                        + "polar_hostid (NodeSpec.Builder.hostId): no two nodes may share one");
            }
        }
    }

    /** No followers to declare: a primary alone, or followers left to be reported as unknown. */
    public static AdoptOptions none() {
        return new AdoptOptions(List.of());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link AdoptOptions}; each call rejects a bad value at once. */
    public static final class Builder {
        private final List<Follower> followers = new ArrayList<>();

        private Builder() {
        }

        /** A follower the cluster has: its name (and slot), host, port, data directory, host id. */
        public Builder follower(NodeSpec node, NodeRole role) {
            Follower f = new Follower(node, role);
            for (Follower other : followers) {
                if (other.node().name().equals(node.name()) || other.node().slotName().equals(node.slotName())) {
                    throw new IllegalArgumentException("follower '" + node.name() + "' is declared twice");
                }
                if (node.hostId().isPresent() && other.node().hostId().equals(node.hostId())) {
                    throw new IllegalArgumentException("followers '" + other.node().name() + "' and '" + node.name()
                            + "' are declared with the same polar_hostid " + node.hostId().get());
                }
            }
            followers.add(f);
            return this;
        }

        public AdoptOptions build() {
            return new AdoptOptions(followers);
        }
    }
}
