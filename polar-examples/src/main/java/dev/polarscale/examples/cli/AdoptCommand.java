package dev.polarscale.examples.cli;

import dev.polarscale.core.NodeRole;
import dev.polarscale.replication.AdoptOptions;
import dev.polarscale.replication.AdoptReport;
import dev.polarscale.replication.ClusterScaler;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.PlannedStep;
import dev.polarscale.replication.SlotInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code adopt}: takes over a running cluster PolarScale did not deploy, once. */
@Command(name = "adopt", description = "Adopt the running primary of the cluster file (made by hand or another "
        + "tool) and the followers it already has; idempotent.")
final class AdoptCommand extends ClusterCommand.Operation {
    static final Set<String> FOLLOWER_KEYS = Set.of("name", "host", "port", "data-dir", "role", "host-id");

    @Option(names = "--follower", paramLabel = "SPEC",
            description = "A follower the cluster has, e.g. name=standby1,host=10.0.0.2,port=5432,"
                    + "data-dir=/var/lib/postgresql/15/main,role=standby (a PolarDB replica: role=replica,host-id=2). "
                    + "Repeat for each.")
    List<String> followers = List.of();

    private AdoptOptions options() {
        AdoptOptions.Builder b = AdoptOptions.builder();
        for (String f : followers) {
            Map<String, String> kv = parse(f);
            NodeSpec.Builder n = NodeSpec.builder().name(require(kv, "name", f)).port(port(require(kv, "port", f), f))
                    .dataDirectory(Path.of(require(kv, "data-dir", f)));
            if (kv.containsKey("host")) {
                n.host(kv.get("host"));
            }
            if (kv.containsKey("host-id")) {
                n.hostId(port(kv.get("host-id"), f));
            }
            NodeRole role = switch (require(kv, "role", f)) {
                case "standby" -> NodeRole.STANDBY;
                case "replica" -> NodeRole.REPLICA;
                default -> throw new IllegalArgumentException("--follower " + f + ": role must be standby or replica");
            };
            b.follower(n.build(), role);
        }
        return b.build();
    }

    /** {@code k=v,k=v} with known keys, each once. */
    static Map<String, String> parse(String spec) {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String part : spec.split(",", -1)) {
            int eq = part.indexOf('=');
            String k = eq < 0 ? part : part.substring(0, eq);
            if (eq < 0 || !FOLLOWER_KEYS.contains(k)) {
                throw new IllegalArgumentException("--follower " + spec + ": '" + part + "' is not one of "
                        + "name=, host=, port=, data-dir=, role=, host-id=");
            }
            if (kv.put(k, part.substring(eq + 1)) != null) {
                throw new IllegalArgumentException("--follower " + spec + ": " + k + " given twice");
            }
        }
        return kv;
    }

    private static String require(Map<String, String> kv, String key, String spec) {
        String v = kv.get(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("--follower " + spec + ": " + key + "= is missing");
        }
        return v;
    }

    private static int port(String v, String spec) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--follower " + spec + ": '" + v + "' is not a number");
        }
    }

    @Override
    List<PlannedStep> plan(ClusterScaler scaler) {
        return scaler.planAdopt(options());
    }

    @Override
    void execute(ClusterScaler scaler, PrintWriter out) {
        AdoptReport r = scaler.adopt(options());
        out.printf("adopted in %d ms: registered %s%n", r.operation().total().toMillis(), String.join(", ", r.registered()));
        if (r.complete()) {
            out.println("every slot and walsender on the primary belongs to a registered node");
            return;
        }
        for (SlotInfo s : r.unknownSlots()) {
            out.printf("not accounted for: slot %s (%s)%n", s.name().value(), s.active() ? "active" : "inactive");
        }
        for (String s : r.unknownStreams()) {
            out.printf("not accounted for: walsender %s%n", s);
        }
        out.println("declare them with --follower (or remove their slots) before adding nodes");
    }
}
