package dev.polarscale.replication;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One entry of a cluster's event history: an operation started, or an operation or one of its
 * steps ended (done, failed, undone). The scaler running the operation writes it to
 * {@code polarscale.events} on the primary as it happens; {@link ClusterScaler#events(EventQuery)}
 * reads it back, newest first, and event listeners ({@link ClusterScaler#addEventListener}) get it
 * at once.
 *
 * <pre>{@code
 * scaler.events(EventQuery.latest(20)).forEach(System.out::println);
 * // 2026-11-25T10:15:02.311Z addStandby standby-2 [base backup] DONE 412 ms by 4711@ctl
 * }</pre>
 *
 * @param at          when it happened (the clock of the machine that ran the operation)
 * @param operationId one id per run of an operation: its events share it
 * @param operation   what ran: {@code deployPrimary}, {@code addStandby}, {@code addReplica},
 *                    {@code removeNode}, {@code adopt}, {@code recover}, {@code scaleTo}
 * @param node        the node it concerns ({@code scaleTo} and {@code recover}: the primary's name)
 * @param step        the step ({@code "base backup"}), or empty for the operation itself
 * @param outcome     what happened
 * @param duration    how long it took (empty for {@link Outcome#STARTED})
 * @param reason      for a failure: the {@link dev.polarscale.core.PolarException.Reason} name, or the
 *                    exception's class name when it is no {@code PolarException}
 * @param message     the failure's message, or a note (e.g. "undone by recovery")
 * @param who         the process that ran it, {@code pid@host}
 */
public record ScaleEvent(Instant at, String operationId, String operation, String node, Optional<String> step,
                         Outcome outcome, Optional<Duration> duration, Optional<String> reason,
                         Optional<String> message, String who) {

    /** What happened to an operation or a step. */
    public enum Outcome {
        /** An operation began (steps have no such event). */
        STARTED,
        /** It succeeded. */
        DONE,
        /** It failed; for an operation, what it had done was undone (or kept, the message says). */
        FAILED,
        /** A step that had succeeded was rolled back; an interrupted operation was undone by recovery. */
        UNDONE
    }

    public ScaleEvent {
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(operationId, "operationId");
        Objects.requireNonNull(operation, "operation");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(duration, "duration");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(who, "who");
        if (step.isPresent() && outcome == Outcome.STARTED) {
            throw new IllegalArgumentException("steps have no STARTED event: " + step.get());
        }
    }

    /** Whether this event is about the operation as a whole rather than one of its steps. */
    public boolean isOperation() {
        return step.isEmpty();
    }

    /** One line: time, operation, node, [step], outcome, duration, reason and message, who. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder().append(at).append(' ').append(operation).append(' ').append(node);
        step.ifPresent(s -> sb.append(" [").append(s).append(']'));
        sb.append(' ').append(outcome);
        duration.ifPresent(d -> sb.append(' ').append(d.toMillis()).append(" ms"));
        reason.ifPresent(r -> sb.append(' ').append(r));
        message.ifPresent(m -> sb.append(": ").append(m.replace('\n', ' ')));
        return sb.append(" by ").append(who).toString();
    }
}
