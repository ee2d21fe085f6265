package dev.polarscale.examples.cli;

import dev.polarscale.replication.ClusterStatus;
import dev.polarscale.replication.NodeStatus;
import dev.polarscale.replication.StorageStatus;

import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code status --json}: the {@link ClusterStatus} as one line of JSON, every field always present
 * ({@code null} where the status has no value), so {@code jq} filters need no guards:
 *
 * <pre>
 * {"healthy":true,"nodes":[{"name":"primary","role":"primary","host":"127.0.0.1","port":5432,
 *  "reachable":true,"healthy":true,"inRecovery":false,"slotActive":null,"replication":null,
 *  "replayLagBytes":null,"replayLagMs":null,"error":null}, ...],"storage":[]}
 * </pre>
 */
final class StatusJson {
    private StatusJson() {
    }

    static String of(ClusterStatus status) {
        boolean healthy = status.nodes().stream().allMatch(NodeStatus::healthy)
                && status.storage().stream().allMatch(StorageStatus::healthy);
        StringBuilder sb = new StringBuilder("{\"healthy\":").append(healthy).append(",\"nodes\":[");
        String sep = "";
        for (NodeStatus n : status.nodes()) {
            sb.append(sep).append('{');
            field(sb, "name", n.name()).append(',');
            field(sb, "role", n.role().name().toLowerCase(Locale.ROOT)).append(',');
            field(sb, "host", n.host()).append(',');
            sb.append("\"port\":").append(n.port()).append(',');
            sb.append("\"reachable\":").append(n.reachable()).append(',');
            sb.append("\"healthy\":").append(n.healthy()).append(',');
            raw(sb, "inRecovery", n.inRecovery().map(String::valueOf)).append(',');
            raw(sb, "slotActive", n.slotActive().map(String::valueOf)).append(',');
            field(sb, "replication", n.replication().orElse(null)).append(',');
            raw(sb, "replayLagBytes", longValue(n.replayLagBytes())).append(',');
            raw(sb, "replayLagMs", n.replayLag().map(d -> String.format(Locale.ROOT, "%.3f", d.toNanos() / 1e6)))
                    .append(',');
            field(sb, "error", n.error().orElse(null));
            sb.append('}');
            sep = ",";
        }
        sb.append("],\"storage\":[");
        sep = "";
        for (StorageStatus s : status.storage()) {
            sb.append(sep).append('{');
            field(sb, "host", s.host()).append(',');
            field(sb, "directory", s.directory()).append(',');
            field(sb, "device", s.device().orElse(null)).append(',');
            raw(sb, "pfsdRunning", s.pfsdRunning().map(String::valueOf)).append(',');
            sb.append("\"healthy\":").append(s.healthy()).append(',');
            field(sb, "error", s.error().orElse(null));
            sb.append('}');
            sep = ",";
        }
        return sb.append("]}").toString();
    }

    private static Optional<String> longValue(OptionalLong v) {
        return v.isPresent() ? Optional.of(Long.toString(v.getAsLong())) : Optional.empty();
    }

    private static StringBuilder raw(StringBuilder sb, String name, Optional<String> literal) {
        return sb.append('"').append(name).append("\":").append(literal.orElse("null"));
    }

    private static StringBuilder field(StringBuilder sb, String name, String value) {
        sb.append('"').append(name).append("\":");
        return value == null ? sb.append("null") : quote(sb, value);
    }

    /** A JSON string: quotes, backslashes and every control character escaped (RFC 8259). */
    static StringBuilder quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"');
    }
}
