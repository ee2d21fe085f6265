package dev.polarscale.examples.cli;

import dev.polarscale.replication.ClusterScaler;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.OperationReport;
import dev.polarscale.replication.PlannedStep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code add standby|replica}: adds a node, verified streaming, or undoes what it did. */
@Command(name = "add", description = "Add a node: a streaming standby (its own copy of the data) or, on shared "
        + "storage, a PolarDB replica.", subcommands = {AddCommand.Standby.class, AddCommand.Replica.class})
final class AddCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("polarscale: say what to add: standby or replica");
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }

    /** The add of one kind of node. */
    abstract static class Kind extends ClusterCommand.Operation {
        @Mixin
        NodeOptions node;

        abstract String kind();

        abstract List<PlannedStep> plan(ClusterScaler scaler, NodeSpec n);

        abstract OperationReport add(ClusterScaler scaler, NodeSpec n);

        @Override
        final List<PlannedStep> plan(ClusterScaler scaler) {
            return plan(scaler, node.toSpec(scaler.spec()));
        }

        @Override
        final void execute(ClusterScaler scaler, PrintWriter out) {
            OperationReport r = add(scaler, node.toSpec(scaler.spec()));
            if (r.canaryLag().isZero()) { // no canary: an earlier add of this very node had completed
                out.printf(Locale.ROOT, "%s %s on %s was already in the cluster as asked: nothing done (%d ms)%n",
                        kind(), node.name, node.where(scaler.spec()), r.total().toMillis());
                return;
            }
            out.printf(Locale.ROOT, "added %s %s on %s in %d ms (a row committed on the primary was read there "
                            + "%.1f ms later)%n", kind(), node.name, node.where(scaler.spec()), r.total().toMillis(),
                    r.canaryLag().toNanos() / 1e6);
        }
    }

    @Command(name = "standby", description = "Add a streaming standby: slot, base backup, standby.signal, start, "
            + "verification (streaming, a canary row).")
    static final class Standby extends Kind {
        @Override
        String kind() {
            return "standby";
        }

        @Override
        List<PlannedStep> plan(ClusterScaler scaler, NodeSpec n) {
            return scaler.planStandby(n);
        }

        @Override
        OperationReport add(ClusterScaler scaler, NodeSpec n) {
            return scaler.addStandby(n);
        }
    }

    @Command(name = "replica", description = "Add a PolarDB shared-storage replica (the cluster file has storage).")
    static final class Replica extends Kind {
        @Override
        String kind() {
            return "replica";
        }

        @Override
        List<PlannedStep> plan(ClusterScaler scaler, NodeSpec n) {
            return scaler.planReplica(n);
        }

        @Override
        OperationReport add(ClusterScaler scaler, NodeSpec n) {
            return scaler.addReplica(n);
        }
    }
}
