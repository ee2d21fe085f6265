package dev.polarscale.replication.internal;

import dev.polarscale.core.PolarException;
import dev.polarscale.replication.OperationReport;
import dev.polarscale.replication.ReplicationException;
import dev.polarscale.replication.ScaleEvent;
import dev.polarscale.replication.ScaleListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Executes an {@link Operation}'s steps in order: tells the listener and the log about each with
 * its duration, keeps the journal row up to date, remembers how to undo every step that
 * succeeded, and on a failure undoes them newest first (or keeps them, for an add with
 * {@code keepOnFailure}). An undo that fails is logged and the rest still run; the journal row
 * then stays, so that the next scaler retries the undo.
 *
 * <p>Journal writes: the row is inserted before the operation's first change
 * ({@link Operation#journalFrom()}); for an operation that is undone after a crash, each step
 * with an undo is recorded as the current step before it runs, so that a recovery undoes
 * exactly the steps that started. The row is deleted when the operation ends, done or undone.
 *
 * <p>Events: every operation's start and end and every step's outcome (done, failed, undone) is
 * published to the event listeners and written to the event history ({@link EventLog}): on the
 * session that holds the cluster lock, as it happens (events before the lock is taken wait for
 * it); an operation that never held the lock (a deploy) writes its events on a new connection
 * when it ends. A write that fails is retried with the next event and dropped, logged, at the
 * end: history never fails an operation.
 */
public final class OperationRunner {
    private static final Logger LOG = LoggerFactory.getLogger(OperationRunner.class);
    private static final String WHO = Journal.owner();

    private final Journal journal;
    private final ScaleListener listener;
    private final EventLog events;
    private final Connection eventSession;

    /** A runner that keeps no event history. */
    public OperationRunner(Journal journal, ScaleListener listener) {
        this(journal, listener, null, null);
    }

    /** A runner that publishes and records events through {@code events}. */
    public OperationRunner(Journal journal, ScaleListener listener, EventLog events) {
        this(journal, listener, events, null);
    }

    private OperationRunner(Journal journal, ScaleListener listener, EventLog events, Connection eventSession) {
        this.journal = journal;
        this.listener = listener;
        this.events = events;
        this.eventSession = eventSession;
    }

    /** This runner, writing events on {@code session} (a recovery, under its caller's lock). */
    OperationRunner eventsOn(Connection session) {
        return new OperationRunner(journal, listener, events, session);
    }

    /**
     * Runs every step of the operation, then releases its lock.
     *
     * @return the steps with their durations
     * @throws PolarException the failure of a step, after every step done so far was undone (or
     *                        kept); undo failures are attached as suppressed exceptions
     */
    public OperationReport run(Operation op) {
        long start = System.nanoTime();
        Deque<Step> done = new ArrayDeque<>();
        List<String> doneNames = new ArrayList<>();
        List<OperationReport.StepTiming> timings = new ArrayList<>();
        String journalId = null;
        Trail trail = new Trail(op, null);
        trail.operation(ScaleEvent.Outcome.STARTED, null, null, null);
        String alreadyDone = null;
        try {
            for (Step step : op.steps()) {
                if (op.journaled() && journalId == null && step.name().equals(op.journalFrom())) {
                    Journal.Entry entry = op.journalEntry().orElse(null);
                    journalId = entry == null ? null : journal.begin(op.lockConnection(), entry);
                }
                if (journalId != null && step.undo() != null && !op.kind().rollsForward()) {
                    journal.progress(op.lockConnection(), journalId, List.copyOf(doneNames), step.name());
                }
                if (step.undoesPartial()) {
                    done.push(step);
                }
                try {
                    timings.add(execute(op, step, trail));
                } catch (AlreadyDone d) {
                    timings.add(d.timing);
                    alreadyDone = d.getMessage();
                    break;
                }
                if (step.undo() != null && !step.undoesPartial()) {
                    done.push(step);
                }
                doneNames.add(step.name());
            }
            if (journalId != null) {
                endJournal(op, journalId);
            }
            Duration total = Duration.ofNanos(System.nanoTime() - start);
            trail.operation(ScaleEvent.Outcome.DONE, total, null, alreadyDone);
            trail.end();
            return new OperationReport(op.label(), timings, total, op.canaryLag());
        } catch (RuntimeException e) {
            RuntimeException failure = normalize(op, e);
            if (op.keepOnFailure()) {
                LOG.warn("{} - {} failed; keeping what was created for debugging (keepOnFailure)", op.node(),
                        op.kind().label());
                if (journalId != null) {
                    keepJournal(op, journalId, failure);
                }
                trail.operation(ScaleEvent.Outcome.FAILED, Duration.ofNanos(System.nanoTime() - start), failure,
                        "kept for debugging (keepOnFailure)");
                trail.end();
                throw failure;
            }
            List<Exception> undoFailures = undo(op, done, trail);
            undoFailures.forEach(failure::addSuppressed);
            if (journalId != null) {
                if (undoFailures.isEmpty()) {
                    endJournal(op, journalId);
                } else {
                    LOG.warn("{} - {}: {} undo(s) failed; the journal keeps the operation for the next scaler to "
                            + "undo", op.node(), op.kind().label(), undoFailures.size());
                }
            }
            trail.operation(ScaleEvent.Outcome.FAILED, Duration.ofNanos(System.nanoTime() - start), failure,
                    undoFailures.isEmpty() ? null : undoFailures.size() + " undo(s) failed; left for the next "
                            + "operation's recovery");
            trail.end();
            throw failure;
        } finally {
            op.close();
        }
    }

    /**
     * Runs the steps from {@code from} on, as a recovery finishes an interrupted operation that
     * rolls forward, its step events in {@code trail}; the lock is the caller's. No undo: such steps
     * are idempotent.
     */
    List<OperationReport.StepTiming> runFrom(Operation op, String from, Trail trail) {
        List<OperationReport.StepTiming> timings = new ArrayList<>();
        boolean started = false;
        for (Step step : op.steps()) {
            started |= step.name().equals(from);
            if (started) {
                timings.add(execute(op, step, trail));
            }
        }
        return timings;
    }

    /**
     * Undoes the named steps of an operation, newest first, as a recovery undoes an interrupted
     * one, its step events in {@code trail}. Each undo must be harmless when its step did nothing.
     *
     * @return the undo failures (already logged)
     */
    List<Exception> undoStarted(Operation op, Collection<String> started, Trail trail) {
        Deque<Step> todo = new ArrayDeque<>();
        for (Step s : op.steps()) {
            if (s.undo() != null && started.contains(s.name())) {
                todo.push(s);
            }
        }
        return undo(op, todo, trail);
    }

    /**
     * The events of one run of an operation (one id): collected, published at once, and written
     * as soon as a session is there.
     */
    final class Trail {
        private final Operation op;
        private final String note;
        private final String id = UUID.randomUUID().toString();
        private final List<ScaleEvent> pending = new ArrayList<>();

        /** @param note added to the message of every step event (e.g. "recovery"), or {@code null} */
        Trail(Operation op, String note) {
            this.op = op;
            this.note = note;
        }

        void step(String step, ScaleEvent.Outcome outcome, Duration took, Throwable failure, String message) {
            record(Optional.of(step), outcome, took, failure, message == null ? note
                    : note == null ? message : note + ": " + message);
        }

        void operation(ScaleEvent.Outcome outcome, Duration took, Throwable failure, String message) {
            record(Optional.empty(), outcome, took, failure, message);
        }

        private void record(Optional<String> step, ScaleEvent.Outcome outcome, Duration took, Throwable failure,
                            String message) {
            if (events == null) {
                return;
            }
            try {
                ScaleEvent e = event(id, op.kind().label(), op.node(), step, outcome, took, failure, message);
                events.publish(e);
                pending.add(e);
                Connection c = session();
                if (c != null && events.write(c, List.copyOf(pending))) {
                    pending.clear();
                }
            } catch (RuntimeException ex) {
                LOG.debug("{} - {}: cannot record an event: {}", op.node(), op.kind().label(), ex.toString());
            }
        }

        /** Writes what is still pending (a new connection when no lock was ever held) and trims the history. */
        void end() {
            if (events == null || pending.isEmpty() && session() == null) {
                return;
            }
            try {
                Connection c = session();
                List<ScaleEvent> all = List.copyOf(pending);
                boolean written = all.isEmpty() || (c != null ? events.write(c, all) : events.writeFresh(all));
                if (!written) {
                    LOG.info("{} - {}: {} event(s) could not be recorded in polarscale.events", op.node(),
                            op.kind().label(), pending.size());
                }
                pending.clear();
                if (c != null && eventSession == null) {
                    events.trim(c);
                }
            } catch (RuntimeException ex) {
                LOG.debug("{} - {}: cannot record events: {}", op.node(), op.kind().label(), ex.toString());
            }
        }

        private Connection session() {
            return eventSession != null ? eventSession : op.lockConnectionIfHeld();
        }
    }

    /** A trail for the events of a recovery of {@code op}, written on this runner's event session. */
    Trail trail(Operation op) {
        return new Trail(op, "recovery");
    }

    /** The reason an event gives for a failure. */
    /**
     * An event of this JVM, now: the failure's message (with {@code message} in parentheses, when
     * both are given) and its reason.
     */
    static ScaleEvent event(String id, String operation, String node, Optional<String> step,
                            ScaleEvent.Outcome outcome, Duration took, Throwable failure, String message) {
        String text = failure == null ? message : message == null ? String.valueOf(failure.getMessage())
                : failure.getMessage() + " (" + message + ")";
        return new ScaleEvent(Instant.now(), id, operation, node, step, outcome, Optional.ofNullable(took),
                Optional.ofNullable(failure).map(OperationRunner::reason), Optional.ofNullable(text), WHO);
    }

    static String reason(Throwable t) {
        return t instanceof PolarException p ? p.reason().name() : t.getClass().getSimpleName();
    }

    /**
     * Thrown by a step (before any change) that finds the operation's result already in place,
     * e.g. an add retried after its first run completed: the remaining steps are skipped and the
     * operation succeeds.
     */
    public static final class AlreadyDone extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private transient OperationReport.StepTiming timing;

        public AlreadyDone(String why) {
            super(why, null, false, false);
        }
    }

    private OperationReport.StepTiming execute(Operation op, Step step, Trail trail) {
        long t0 = System.nanoTime();
        try {
            listener.stepStarted(op.label(), step.name());
            try {
                step.action().run();
            } catch (AlreadyDone d) {
                Duration took = Duration.ofNanos(System.nanoTime() - t0);
                LOG.info("{} - {}: {}; nothing more to do", op.node(), op.kind().label(), d.getMessage());
                trail.step(step.name(), ScaleEvent.Outcome.DONE, took, null, d.getMessage());
                listener.stepFinished(op.label(), step.name(), took);
                d.timing = new OperationReport.StepTiming(step.name(), took);
                throw d;
            }
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            LOG.info("{} - {}: {} done in {} ms", op.node(), op.kind().label(), step.name(), took.toMillis());
            trail.step(step.name(), ScaleEvent.Outcome.DONE, took, null, null);
            listener.stepFinished(op.label(), step.name(), took);
            return new OperationReport.StepTiming(step.name(), took);
        } catch (AlreadyDone d) {
            throw d;
        } catch (RuntimeException e) {
            LOG.warn("{} - {}: {} failed after {} ms: {}", op.node(), op.kind().label(), step.name(),
                    (System.nanoTime() - t0) / 1_000_000, e.getMessage());
            trail.step(step.name(), ScaleEvent.Outcome.FAILED, Duration.ofNanos(System.nanoTime() - t0), e, null);
            try {
                listener.stepFailed(op.label(), step.name(), e);
            } catch (RuntimeException ignored) {
                // a listener cannot change the outcome
            }
            throw e;
        }
    }

    private List<Exception> undo(Operation op, Deque<Step> steps, Trail trail) {
        List<Exception> failures = new ArrayList<>();
        while (!steps.isEmpty()) {
            Step s = steps.pop();
            long t0 = System.nanoTime();
            try {
                s.undo().run();
                LOG.info("{} - {}: undid {} in {} ms", op.node(), op.kind().label(), s.name(),
                        (System.nanoTime() - t0) / 1_000_000);
                trail.step(s.name(), ScaleEvent.Outcome.UNDONE, Duration.ofNanos(System.nanoTime() - t0), null, null);
                try {
                    listener.stepUndone(op.label(), s.name());
                } catch (RuntimeException ignored) {
                    // a listener cannot stop the rollback
                }
            } catch (Exception e) {
                LOG.error("{} - {}: could not undo {}: {}", op.node(), op.kind().label(), s.name(), e.getMessage(), e);
                trail.step(s.name(), ScaleEvent.Outcome.FAILED, Duration.ofNanos(System.nanoTime() - t0), e,
                        "could not undo it");
                failures.add(e);
            }
        }
        return failures;
    }

    private void endJournal(Operation op, String id) {
        try {
            journal.finish(op.lockConnection(), id);
        } catch (RuntimeException e) {
            // the work is done or undone; a stale row is resolved by the next scaler's recovery
            LOG.warn("{} - {}: cannot end journal entry {}: {}", op.node(), op.kind().label(), id, e.getMessage());
        }
    }

    private void keepJournal(Operation op, String id, RuntimeException failure) {
        try {
            journal.keep(op.lockConnection(), id, String.valueOf(failure.getMessage()));
        } catch (RuntimeException e) {
            LOG.warn("{} - {}: cannot mark journal entry {} as kept: {}", op.node(), op.kind().label(), id,
                    e.getMessage());
        }
    }

    /**
     * The exception a failed operation throws: the step's own when it is a {@link PolarException}
     * or a caller mistake, else a {@link ReplicationException} around it. The same whether the
     * steps are undone or kept.
     */
    static RuntimeException normalize(Operation op, RuntimeException e) {
        if (e instanceof PolarException || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
            return e;
        }
        return new ReplicationException(PolarException.Reason.OTHER, op.node(), null,
                op.node() + " - " + op.kind().label() + " failed: " + e, e);
    }
}
