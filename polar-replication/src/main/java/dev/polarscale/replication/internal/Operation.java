package dev.polarscale.replication.internal;

import dev.polarscale.replication.PlannedStep;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One scaling operation as data: its kind, node and the ordered list of {@link Step}s, built once
 * per call. {@link #plan()} shows that list; {@link OperationRunner} executes the same list. An
 * operation that changes a running cluster also carries the {@link Journal.Entry} that lets a
 * later scaler finish or undo it if the process running it dies half-way.
 */
public final class Operation implements AutoCloseable {

    /** The kinds of operation, with the name the API, the logs and the journal use. */
    public enum Kind {
        DEPLOY_PRIMARY("deployPrimary", false),
        ADD_STANDBY("addStandby", false),
        ADD_REPLICA("addReplica", false),
        REMOVE_NODE("removeNode", true),
        ADOPT("adopt", false),
        /** Takes the lock and recovers interrupted operations, nothing else (scaleTo runs it first). */
        RECOVER("recover", false);

        private final String label;
        private final boolean rollsForward;

        Kind(String label, boolean rollsForward) {
            this.label = label;
            this.rollsForward = rollsForward;
        }

        public String label() {
            return label;
        }

        /**
         * Whether an interrupted run is finished (a removal: every step is idempotent and the
         * caller wanted the node gone) rather than undone (an add: its caller never saw success).
         */
        public boolean rollsForward() {
            return rollsForward;
        }
    }

    /** Holds the cluster lock an operation's "lock" step takes, until the operation ends. */
    public static final class LockSlot implements AutoCloseable {
        private ClusterLock lock;

        void hold(ClusterLock l) {
            this.lock = l;
        }

        /** The session holding the lock; the journal writes through it. */
        java.sql.Connection connection() {
            ClusterLock l = lock;
            if (l == null) {
                throw new IllegalStateException("the cluster lock is not held");
            }
            return l.connection();
        }

        /** The session holding the lock, or {@code null} while none is held. */
        java.sql.Connection connectionIfHeld() {
            ClusterLock l = lock;
            return l == null ? null : l.connection();
        }

        @Override
        public void close() {
            ClusterLock l = lock;
            lock = null;
            if (l != null) {
                l.close();
            }
        }
    }

    private final Kind kind;
    private final String node;
    private final List<Step> steps;
    private final Supplier<Journal.Entry> journal;
    private final String journalFrom;
    private final boolean keepOnFailure;
    private final Supplier<Duration> canaryLag;
    private final LockSlot lock;

    /**
     * @param journal     what the journal records of this operation, asked when its first change is
     *                    about to run (it may return {@code null}: nothing to record); {@code null} for
     *                    an operation that is never journaled
     * @param journalFrom the first step run with a journal row in place (steps before it change nothing)
     * @param canaryLag   read after a successful run, for the report
     * @param lock        released when the operation ends
     */
    public Operation(Kind kind, String node, List<Step> steps, Supplier<Journal.Entry> journal, String journalFrom,
                     boolean keepOnFailure, Supplier<Duration> canaryLag, LockSlot lock) {
        this.kind = Objects.requireNonNull(kind, "kind");
        this.node = Objects.requireNonNull(node, "node");
        this.steps = List.copyOf(steps);
        this.journal = journal;
        this.journalFrom = journalFrom;
        this.keepOnFailure = keepOnFailure;
        this.canaryLag = Objects.requireNonNull(canaryLag, "canaryLag");
        this.lock = Objects.requireNonNull(lock, "lock");
        if (journal != null && steps.stream().noneMatch(s -> s.name().equals(journalFrom))) {
            throw new IllegalArgumentException("no step named '" + journalFrom + "' in " + label());
        }
    }

    public Kind kind() {
        return kind;
    }

    public String node() {
        return node;
    }

    /** E.g. {@code "addStandby standby1"}: what listeners and reports call it. */
    public String label() {
        return kind.label() + " " + node;
    }

    public List<Step> steps() {
        return steps;
    }

    /** Whether this operation writes a journal row from {@link #journalFrom()} on. */
    public boolean journaled() {
        return journal != null;
    }

    /** The journal row to write, asked when the first change is about to run. */
    public Optional<Journal.Entry> journalEntry() {
        return journal == null ? Optional.empty() : Optional.ofNullable(journal.get());
    }

    /** The first step that runs with the journal row in place. */
    public String journalFrom() {
        return journalFrom;
    }

    public boolean keepOnFailure() {
        return keepOnFailure;
    }

    public Duration canaryLag() {
        return canaryLag.get();
    }

    /** The steps as a plan: names, hosts, exact commands and SQL; runs nothing. */
    public List<PlannedStep> plan() {
        return steps.stream().map(Step::planned).toList();
    }

    /**
     * This operation with {@code extra} run right after the step named {@code after} (same
     * journal, lock and undo); it must change nothing, or come after {@link #journalFrom()}.
     */
    public Operation withStepAfter(String after, Step extra) {
        List<Step> l = new java.util.ArrayList<>(steps);
        int i = l.stream().map(Step::name).toList().indexOf(after);
        if (i < 0) {
            throw new IllegalArgumentException("no step named '" + after + "' in " + label());
        }
        l.add(i + 1, extra);
        return new Operation(kind, node, l, journal, journalFrom, keepOnFailure, canaryLag, lock);
    }

    /** The session holding the cluster lock, or {@code null} while no step has taken it. */
    java.sql.Connection lockConnectionIfHeld() {
        return lock.connectionIfHeld();
    }

    /** The session holding the cluster lock (taken by the "lock" step). */
    java.sql.Connection lockConnection() {
        return lock.connection();
    }

    /** Releases the cluster lock if a step took it. */
    @Override
    public void close() {
        lock.close();
    }
}
