package dev.polarscale.examples.cli;

import dev.polarscale.replication.ClusterScaler;
import dev.polarscale.replication.ClusterStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;

/**
 * {@code status}: every node (role, reachability, recovery, slot, replication state, lag) and, on
 * shared storage, each host's view of it; as a table or one line of JSON, once or every interval.
 */
@Command(name = "status", description = "Show every node of the cluster (role, reachable, recovery, slot, "
        + "streaming, lag) and the shared storage per host. Never fails for an unreachable node: its row says why.")
final class StatusCommand extends ClusterCommand {
    @Option(names = "--json", description = "One line of JSON per status (see the README for its fields).")
    boolean json;

    @Option(names = "--watch", description = "Repeat every --interval until interrupted (Ctrl-C) or --count.")
    boolean watch;

    @Option(names = "--interval", paramLabel = "DURATION", converter = ClusterCommand.DurationConverter.class,
            description = "With --watch: time between two statuses (default: 2s).")
    Duration interval = Duration.ofSeconds(2);

    @Option(names = "--count", paramLabel = "N", description = "With --watch: stop after N statuses.")
    Integer count;

    @Override
    int run(ClusterScaler scaler, PrintWriter out) throws InterruptedException {
        if (count != null && (count < 1 || !watch)) {
            throw new IllegalArgumentException(count < 1 ? "--count must be at least 1: " + count
                    : "--count goes with --watch");
        }
        boolean clear = watch && !json && root().terminal();
        for (int i = 1; ; i++) {
            ClusterStatus st = scaler.status();
            if (json) {
                out.println(StatusJson.of(st));
            } else {
                if (clear) {
                    out.print("\033[H\033[2J");
                }
                if (watch) {
                    out.println(LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + "  every " + interval.toMillis()
                            + " ms, Ctrl-C to stop");
                }
                out.print(st.toTable());
            }
            out.flush();
            if (!watch || (count != null && i >= count)) {
                return ExitCodes.OK;
            }
            Thread.sleep(interval.toMillis());
        }
    }
}
