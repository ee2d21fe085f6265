package dev.polarscale.examples.cli;

import dev.polarscale.replication.ClusterScaler;
import dev.polarscale.replication.EventQuery;
import dev.polarscale.replication.ScaleEvent;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** {@code events}: the cluster's history of operations and steps, newest first. */
@Command(name = "events", description = "Show the history of operations and their steps recorded on the primary "
        + "(who, what, node, when, how long, outcome, reason), newest first.")
final class EventsCommand extends ClusterCommand {
    @Option(names = "--limit", paramLabel = "N", description = "At most N events (default: 50).")
    int limit = 50;

    @Option(names = "--since", paramLabel = "DURATION", converter = ClusterCommand.DurationConverter.class,
            description = "Only events of the last DURATION, e.g. 1h.")
    Duration since;

    @Option(names = "--node", paramLabel = "NAME", description = "Only events about this node.")
    String node;

    @Option(names = "--operations", description = "Only whole operations, not their steps.")
    boolean operationsOnly;

    @Override
    int run(ClusterScaler scaler, PrintWriter out) {
        // whole operations only: read the widest window, keep the first `limit` of them
        EventQuery q = EventQuery.latest(operationsOnly ? EventQuery.MAX_LIMIT : limit);
        if (since != null) {
            q = q.since(Instant.now().minus(since));
        }
        if (node != null) {
            q = q.node(node);
        }
        List<ScaleEvent> events = scaler.events(q).stream().filter(e -> !operationsOnly || e.isOperation())
                .limit(limit).toList();
        events.forEach(out::println);
        if (events.isEmpty()) {
            out.println("no events");
        }
        return ExitCodes.OK;
    }
}
