package dev.polarscale.replication;

import java.util.List;
import java.util.Optional;

/**
 * Every registered node of a cluster with its state, primary first, and for a PolarDB cluster the
 * shared storage as each of its hosts sees it (for PFS: the device and whether its pfsd runs).
 *
 * <pre>{@code
 * System.out.println(scaler.status().toTable());
 * }</pre>
 *
 * @param nodes   the nodes, primary first
 * @param storage one entry per host with a node, in the order of {@code nodes}; empty without shared storage
 */
public record ClusterStatus(List<NodeStatus> nodes, List<StorageStatus> storage) {
    public ClusterStatus {
        nodes = List.copyOf(nodes);
        storage = List.copyOf(storage);
    }

    /** A status without shared storage entries. */
    public ClusterStatus(List<NodeStatus> nodes) {
        this(nodes, List.of());
    }

    public Optional<NodeStatus> node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst();
    }

    /** The shared storage as {@code host} sees it. */
    public Optional<StorageStatus> storage(String host) {
        return storage.stream().filter(s -> s.host().equals(host)).findFirst();
    }

    /** A fixed-width text table, one line per node, then one per host's view of the shared storage. */
    public String toTable() {
        StringBuilder sb = new StringBuilder(String.format("%-12s %-8s %-15s %6s %-9s %-10s %-6s %-10s %12s %10s%n",
                "node", "role", "host", "port", "reachable", "recovery", "slot", "state", "lag bytes", "lag ms"));
        for (NodeStatus n : nodes) {
            sb.append(String.format("%-12s %-8s %-15s %6d %-9s %-10s %-6s %-10s %12s %10s%n",
                    n.name(), n.role().name().toLowerCase(java.util.Locale.ROOT), n.host(), n.port(),
                    n.reachable() ? "yes" : "NO", n.inRecovery().map(String::valueOf).orElse("-"),
                    n.slotActive().map(a -> a ? "active" : "IDLE").orElse("-"),
                    n.replication().orElse("-"),
                    n.replayLagBytes().isPresent() ? Long.toString(n.replayLagBytes().getAsLong()) : "-",
                    n.replayLag().map(d -> String.format("%.1f", d.toNanos() / 1e6)).orElse("-")));
        }
        if (!storage.isEmpty()) {
            sb.append(String.format("%-15s %-14s %-11s %s%n", "storage host", "device", "pfsd", "shared directory"));
            for (StorageStatus s : storage) {
                sb.append(String.format("%-15s %-14s %-11s %s%n", s.host(), s.device().orElse("(local fs)"),
                        s.error().isPresent() ? "UNKNOWN" : s.pfsdRunning().map(r -> r ? "running" : "NOT RUNNING")
                                .orElse("-"), s.directory() + s.error().map(e -> "  (" + e + ")").orElse("")));
            }
        }
        return sb.toString();
    }
}
