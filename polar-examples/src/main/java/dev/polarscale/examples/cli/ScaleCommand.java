package dev.polarscale.examples.cli;

import dev.polarscale.replication.ClusterScaler;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.NamingPolicy;
import dev.polarscale.replication.OperationReport;
import dev.polarscale.replication.RemoveOptions;
import dev.polarscale.replication.ScalePlan;
import dev.polarscale.replication.ScaleReport;
import dev.polarscale.replication.ScaleTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code scale --to N}: as many followers as asked, named {@code <prefix><number>}. Followers with
 * other names are never counted or removed. Under {@code plan}: the changes, each with its steps.
 */
@Command(name = "scale", description = "Add or remove followers until the cluster has N of them, named <prefix>1, "
        + "<prefix>2, ... (unhealthy and highest-numbered ones go first; nodes with other names are never touched).")
final class ScaleCommand extends ClusterCommand {
    @Option(names = "--to", paramLabel = "N", required = true, description = "How many followers of this naming.")
    int to;

    @Option(names = "--prefix", paramLabel = "PREFIX", description = "Name prefix (default: standby- on PostgreSQL, "
            + "replica- with shared storage).")
    String prefix;

    @Option(names = "--first-port", paramLabel = "PORT", description = "Lowest port for new nodes (default: the "
            + "primary's + 1).")
    Integer firstPort;

    @Option(names = "--data-dirs", paramLabel = "DIR", description = "Parent of the new nodes' data directories "
            + "(default: the primary's parent directory).")
    Path dataDirs;

    @Option(names = "--hosts", paramLabel = "HOST", split = ",", description = "Hosts to spread new nodes over "
            + "(default: the primary's host).")
    List<String> hosts;

    @Option(names = "--keep-data", description = "Keep the data directories of removed nodes.")
    boolean keepData;

    ScaleTarget target(ClusterSpec spec) {
        NamingPolicy.Builder policy = NamingPolicy.builder()
                .prefix(prefix != null ? prefix : spec.sharedStorage().isPresent() ? "replica-" : "standby-")
                .ports(firstPort != null ? firstPort : spec.primaryPort().value() + 1)
                .dataDirectories(dataDirs != null ? dataDirs : spec.primaryDataDirectory().getParent());
        if (hosts != null && !hosts.isEmpty()) {
            policy.hosts(hosts.toArray(String[]::new));
        }
        return ScaleTarget.count(to, policy.build())
                .withRemoveOptions(RemoveOptions.defaults().withDeleteData(!keepData));
    }

    @Override
    int run(ClusterScaler scaler, PrintWriter out) {
        ScaleTarget target = target(scaler.spec());
        ScalePlan plan = scaler.planScale(target);
        if (underPlan()) {
            out.println(plan);
            return ExitCodes.OK;
        }
        if (plan.isEmpty()) {
            out.printf(Locale.ROOT, "the cluster already has %d follower(s) named %s<n>: nothing to do%n", to,
                    target.policy().orElseThrow().prefix());
            return ExitCodes.OK;
        }
        out.println(plan.summary());
        ScaleReport r = scaler.scaleTo(plan);
        for (OperationReport op : r.operations()) {
            out.printf(Locale.ROOT, "%s in %d ms%n", op.operation(), op.total().toMillis());
        }
        out.printf(Locale.ROOT, "scaled to %d follower(s) in %d ms%n", to, r.total().toMillis());
        return ExitCodes.OK;
    }
}
