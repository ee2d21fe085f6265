package dev.polarscale.examples.cli;

import dev.polarscale.replication.ClusterScaler;
import dev.polarscale.replication.ClusterStatus;
import dev.polarscale.replication.NodeStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code stop [NAME...]}: stops servers ({@code pg_ctl stop -m fast}) and changes nothing else: the
 * nodes stay registered, their slots and data stay. Without names every registered node, the
 * primary last.
 */
@Command(name = "stop", description = "Stop nodes' servers (pg_ctl stop -m fast), the primary last; nothing is "
        + "unregistered or deleted. Without NAME: every node of the cluster.")
final class StopCommand extends ClusterCommand {
    @Parameters(paramLabel = "NAME", arity = "0..*", description = "The nodes to stop (default: all).")
    List<String> names = List.of();

    @Override
    int run(ClusterScaler scaler, PrintWriter out) {
        String primary = scaler.spec().primaryName();
        List<String> targets = new ArrayList<>(names);
        if (targets.isEmpty()) {
            ClusterStatus st = scaler.status();
            for (NodeStatus n : st.nodes()) {
                if (!n.name().equals(primary)) {
                    targets.add(n.name());
                }
            }
            targets.add(primary);
        } else if (targets.remove(primary)) {
            targets.add(primary); // its followers first: their names are read from it
        }
        for (String name : targets) {
            long t0 = System.nanoTime();
            if (name.equals(primary)) {
                scaler.primaryNode().stop();
            } else {
                scaler.node(name).stop();
            }
            out.printf("stopped %s in %d ms%n", name, (System.nanoTime() - t0) / 1_000_000);
            out.flush();
        }
        return ExitCodes.OK;
    }
}
