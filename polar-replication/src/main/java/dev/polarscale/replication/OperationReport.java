package dev.polarscale.replication;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What a finished scaling operation did: each step with its duration, the total, and for an
 * add the commit-to-visible lag of the canary row.
 *
 * @param operation  e.g. {@code "addStandby standby1"}
 * @param steps      the steps in order
 * @param total      wall-clock time of the whole operation
 * @param canaryLag  how long a row committed on the primary took to be read on the new node
 *                   ({@link Duration#ZERO} for operations without a canary)
 */
public record OperationReport(String operation, List<StepTiming> steps, Duration total, Duration canaryLag) {
    public OperationReport {
        Objects.requireNonNull(operation, "operation");
        steps = List.copyOf(steps);
        Objects.requireNonNull(total, "total");
        Objects.requireNonNull(canaryLag, "canaryLag");
    }

    /** One step and how long it took. */
    public record StepTiming(String step, Duration took) {
        public StepTiming {
            Objects.requireNonNull(step, "step");
            Objects.requireNonNull(took, "took");
        }
    }
}
