package dev.polarscale.replication;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What {@link ClusterScaler#scaleTo} did: the plan it applied and the report of each operation
 * it ran (a {@code recover} first when the journal held interrupted operations).
 *
 * @param plan       the plan applied
 * @param operations the operations run, in order
 * @param total      wall-clock time of the whole reconcile
 */
public record ScaleReport(ScalePlan plan, List<OperationReport> operations, Duration total) {
    public ScaleReport {
        Objects.requireNonNull(plan, "plan");
        operations = List.copyOf(operations);
        Objects.requireNonNull(total, "total");
    }
}
