package dev.polarscale.examples.cli;

import dev.polarscale.replication.ClusterScaler;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.DeployOptions;
import dev.polarscale.replication.OperationReport;
import dev.polarscale.replication.PlannedStep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.List;

/** {@code deploy}: initdb, configuration, roles, start and checks of the cluster file's primary. */
@Command(name = "deploy", description = "Deploy the primary of the cluster file (initdb, configuration, roles, "
        + "start, checks; on shared storage also the storage). Undone if a step fails.")
final class DeployCommand extends ClusterCommand.Operation {
    @Option(names = "--format-empty-device",
            description = "PFS only: format the device first if it is provably empty (never one holding data).")
    boolean formatEmptyDevice;

    private DeployOptions options() {
        return DeployOptions.defaults().withFormatEmptyDevice(formatEmptyDevice);
    }

    @Override
    List<PlannedStep> plan(ClusterScaler scaler) {
        return scaler.planDeployPrimary(options());
    }

    @Override
    void execute(ClusterScaler scaler, PrintWriter out) {
        OperationReport r = scaler.deployPrimary(options());
        ClusterSpec s = scaler.spec();
        out.printf("deployed primary %s on %s:%d in %d ms%n", s.primaryName(), s.primaryHost(), s.primaryPort().value(),
                r.total().toMillis());
    }
}
