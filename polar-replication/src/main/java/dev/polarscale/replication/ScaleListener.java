package dev.polarscale.replication;

import java.time.Duration;

/**
 * Hears every step of a scaling operation as it happens, e.g. to show progress or to feed a
 * metrics system. Called on the thread that runs the operation.
 *
 * <p>{@code operation} names the operation and its node, as {@link OperationReport#operation()}
 * does ({@code "addStandby standby1"}), so the progress of operations running at the same time
 * can be told apart; {@code step} is the step's name ({@code "base backup"}).
 *
 * <p>An exception thrown from {@link #stepStarted} fails that step: the operation undoes what
 * it did so far and rethrows. Tests use this to inject a failure at a chosen step.
 *
 * <pre>{@code
 * ScaleListener progress = new ScaleListener() {
 *     public void stepFinished(String op, String step, Duration took) {
 *         System.out.printf("%s: %s done in %d ms%n", op, step, took.toMillis());
 *     }
 * };
 * }</pre>
 */
public interface ScaleListener {

    /** A listener that does nothing. */
    ScaleListener NONE = new ScaleListener() {
    };

    default void stepStarted(String operation, String step) {
    }

    default void stepFinished(String operation, String step, Duration took) {
    }

    default void stepFailed(String operation, String step, Throwable cause) {
    }

    /** A step that had succeeded was rolled back after a later step failed. */
    default void stepUndone(String operation, String step) {
    }
}
