package dev.polarscale.replication.internal;

import dev.polarscale.replication.OperationReport;
import dev.polarscale.replication.ScaleListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;

/**
 * Runs the steps of one operation in order, tells the listener and the log about each, and
 * remembers how to undo every step that succeeded. {@link #rollback} undoes them in reverse;
 * an undo that fails is logged and the rest still run, so one stuck step does not strand the
 * others.
 */
public final class StepRunner {
    private static final Logger LOG = LoggerFactory.getLogger(StepRunner.class);

    /** Something that undoes a step. */
    @FunctionalInterface
    public interface Undo {
        void run() throws Exception;
    }

    private final String node;
    private final String operation;
    /** What the listener is told: the operation and its node, as in {@link OperationReport#operation()}. */
    private final String label;
    private final ScaleListener listener;
    private final Deque<String> doneNames = new ArrayDeque<>();
    private final Deque<Undo> undos = new ArrayDeque<>();
    private final List<OperationReport.StepTiming> timings = new ArrayList<>();
    private final long start = System.nanoTime();

    public StepRunner(String node, String operation, ScaleListener listener) {
        this.node = node;
        this.operation = operation;
        this.label = operation + " " + node;
        this.listener = listener;
    }

    /** Runs a step without result. */
    public void step(String name, Runnable action, Undo undo) {
        call(name, () -> {
            action.run();
            return null;
        }, undo);
    }

    /** Runs a step; on success its undo is remembered (may be {@code null}). */
    public <T> T call(String name, Supplier<T> action, Undo undo) {
        return call(name, action, undo, false);
    }

    /**
     * Runs a step whose failure can leave part of its work behind (a directory made before the
     * copy into it failed, a postmaster that started but did not answer): its undo is remembered
     * before the action runs, so a rollback also cleans up after the half-done step. The undo
     * must therefore be harmless when the step did nothing.
     */
    public void stepUndoingPartial(String name, Runnable action, Undo undo) {
        call(name, () -> {
            action.run();
            return null;
        }, java.util.Objects.requireNonNull(undo, "undo"), true);
    }

    private <T> T call(String name, Supplier<T> action, Undo undo, boolean undoPartial) {
        long t0 = System.nanoTime();
        if (undoPartial) {
            doneNames.push(name);
            undos.push(undo);
        }
        try {
            listener.stepStarted(label, name);
            T result = action.get();
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            if (undo != null && !undoPartial) {
                doneNames.push(name);
                undos.push(undo);
            }
            timings.add(new OperationReport.StepTiming(name, took));
            LOG.info("{} - {}: {} done in {} ms", node, operation, name, took.toMillis());
            listener.stepFinished(label, name, took);
            return result;
        } catch (RuntimeException e) {
            LOG.warn("{} - {}: {} failed after {} ms: {}", node, operation, name,
                    (System.nanoTime() - t0) / 1_000_000, e.getMessage());
            safeFailed(name, e);
            throw e;
        }
    }

    /** Undoes every completed step, newest first; returns the failures (already logged). */
    public List<Exception> rollback() {
        List<Exception> failures = new ArrayList<>();
        while (!undos.isEmpty()) {
            String name = doneNames.pop();
            Undo undo = undos.pop();
            long t0 = System.nanoTime();
            try {
                undo.run();
                LOG.info("{} - {}: undid {} in {} ms", node, operation, name, (System.nanoTime() - t0) / 1_000_000);
                try {
                    listener.stepUndone(label, name);
                } catch (RuntimeException ignored) {
                    // a listener cannot stop the rollback
                }
            } catch (Exception e) {
                LOG.error("{} - {}: could not undo {}: {}", node, operation, name, e.getMessage(), e);
                failures.add(e);
            }
        }
        return failures;
    }

    /** Forgets the undo actions (after success, or when the caller keeps a failed node for debugging). */
    public void commit() {
        undos.clear();
        doneNames.clear();
    }

    public OperationReport report(Duration canaryLag) {
        return new OperationReport(operation + " " + node, timings, Duration.ofNanos(System.nanoTime() - start),
                canaryLag);
    }

    private void safeFailed(String name, Throwable e) {
        try {
            listener.stepFailed(label, name, e);
        } catch (RuntimeException ignored) {
            // a listener cannot change the outcome
        }
    }
}
