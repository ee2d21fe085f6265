package dev.polarscale.examples.cli;

import dev.polarscale.replication.ClusterScaler;
import dev.polarscale.replication.OperationReport;
import dev.polarscale.replication.PlannedStep;
import dev.polarscale.replication.RemoveOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;

/** {@code remove NAME}: stop, slot inactive, drop the slot, forget the node. */
@Command(name = "remove", description = "Remove a node: stop it, wait until its slot is inactive, drop the slot, "
        + "forget it.")
final class RemoveCommand extends ClusterCommand.Operation {
    @Parameters(index = "0", paramLabel = "NAME", description = "The node to remove.")
    String name;

    @Option(names = "--delete-data", description = "Also delete its data directory.")
    boolean deleteData;

    @Option(names = "--force", description = "Its host cannot be reached: end its walsender, drop its slot and "
            + "forget it anyway (its data directory, on that host, is left alone).")
    boolean force;

    @Option(names = "--slot-wait", paramLabel = "DURATION", converter = ClusterCommand.DurationConverter.class,
            description = "How long to wait for its slot to turn inactive (default: 30s).")
    Duration slotWait;

    private RemoveOptions options() {
        RemoveOptions o = RemoveOptions.defaults().withDeleteData(deleteData).withForce(force);
        return slotWait == null ? o : o.withSlotInactiveWait(slotWait);
    }

    @Override
    List<PlannedStep> plan(ClusterScaler scaler) {
        return scaler.planRemove(name, options());
    }

    @Override
    void execute(ClusterScaler scaler, PrintWriter out) {
        OperationReport r = scaler.removeNode(name, options());
        out.printf("removed %s in %d ms%s%n", name, r.total().toMillis(), deleteData ? " (data directory deleted)" : "");
    }
}
