package dev.polarscale.replication;

import java.util.List;
import java.util.Optional;

/**
 * Every registered node of a cluster with its state, primary first.
 *
 * <pre>{@code
 * System.out.println(scaler.status().toTable());
 * }</pre>
 */
public record ClusterStatus(List<NodeStatus> nodes) {
    public ClusterStatus {
        nodes = List.copyOf(nodes);
    }

    public Optional<NodeStatus> node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst();
    }

    /** A fixed-width text table, one line per node. */
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
        return sb.toString();
    }
}
