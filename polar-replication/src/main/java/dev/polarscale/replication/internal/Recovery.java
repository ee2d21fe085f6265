package dev.polarscale.replication.internal;

import dev.polarscale.core.PolarException;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.ReplicationException;
import dev.polarscale.replication.ScaleEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.sql.Connection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Finishes or undoes the operations whose process died, from their {@link Journal} rows. Runs
 * under the cluster lock, so no live operation owns a row it reads: an add is undone (its caller
 * never saw it succeed) unless its node got registered, which is an add's commit point; a
 * removal is finished (all its steps are idempotent). The operation is rebuilt from the row with
 * the same code that built it, so the undo is the one the run would have done.
 *
 * <p>A kept failed add ({@code keepOnFailure}) is cleaned up only when its own node is touched
 * again: a retry of the add or its removal.
 */
final class Recovery {
    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

    private final ScalerContext ctx;
    private final OperationRunner runner;

    Recovery(ScalerContext ctx) {
        this.ctx = ctx;
        this.runner = ctx.runner();
    }

    /**
     * Recovers every interrupted operation, and a kept add of {@code node}.
     *
     * @param lock the session holding the cluster lock
     * @param node the node of the operation about to run
     * @return the nodes whose operations were recovered
     * @throws ReplicationException {@link PolarException.Reason#INTERRUPTED_OPERATION}: an operation on
     *                              {@code node} itself could not be finished or undone
     */
    Set<String> recover(Connection lock, String node) {
        ctx.registry().requireManaged(); // a cluster nobody deployed or adopted: say so before any change;
                                         // then the tables a newer PolarScale added
        Journal journal = ctx.journal();
        OperationRunner r = runner.eventsOn(lock);
        Set<String> handled = new HashSet<>();
        for (Journal.Entry e : journal.list(lock)) {
            if (e.state() == Journal.State.KEPT && !e.node().equals(node)) {
                continue;
            }
            LOG.warn("{} - {} {} {} by {} ({}): {} it now", e.node(), e.state() == Journal.State.KEPT
                    ? "kept failed" : "interrupted", e.kind().label(), e.node(), e.owner(), e.kind().rollsForward()
                    ? "it rolls forward: every step runs again, each one idempotent"
                    : "in step " + e.currentStep().orElse("-") + ", done " + e.stepsDone(),
                    e.kind().rollsForward() ? "finishing" : "undoing");
            long t0 = System.nanoTime();
            OperationRunner.Trail trail = null;
            try {
                Operation op = rebuild(e);
                trail = r.trail(op);
                String outcome = recoverOne(e, op, r, trail);
                journal.finish(lock, e.id());
                handled.add(e.node());
                trail.operation(outcome.equals("undone") ? ScaleEvent.Outcome.UNDONE : ScaleEvent.Outcome.DONE,
                        java.time.Duration.ofNanos(System.nanoTime() - t0), null, "the " + (e.state()
                                == Journal.State.KEPT ? "kept failed" : "interrupted") + " run by " + e.owner()
                                + " (in step " + e.currentStep().orElse("-") + ") " + outcome + " by recovery");
            } catch (RuntimeException ex) {
                if (trail != null) {
                    trail.operation(ScaleEvent.Outcome.FAILED, java.time.Duration.ofNanos(System.nanoTime() - t0), ex,
                            "recovery of the interrupted run by " + e.owner() + " failed; left in the journal");
                }
                try {
                    journal.recoveryFailed(lock, e.id(), String.valueOf(ex.getMessage()));
                } catch (RuntimeException ignored) {
                    // the row stays as it was; the next scaler tries again
                }
                if (e.node().equals(node)) {
                    throw new ReplicationException(PolarException.Reason.INTERRUPTED_OPERATION, node, e.host(),
                            node + " - an interrupted " + e.kind().label() + " of this node (by " + e.owner()
                                    + ") could not be " + (e.kind().rollsForward() ? "finished" : "undone") + ": "
                                    + ex.getMessage(), ex);
                }
                LOG.error("{} - cannot recover the interrupted {} of {}; left in the journal: {}", node,
                        e.kind().label(), e.node(), ex.getMessage(), ex);
            } finally {
                if (trail != null) {
                    trail.end();
                }
            }
        }
        return handled;
    }

    /** @return what became of it: "finished", "found complete" or "undone" */
    private String recoverOne(Journal.Entry e, Operation op, OperationRunner r, OperationRunner.Trail trail) {
        if (e.kind().rollsForward()) {
            r.runFrom(op, op.journalFrom(), trail);
            return "finished";
        }
        if (registered(e)) {
            LOG.info("{} - the interrupted {} had registered the node: it is complete", e.node(), e.kind().label());
            return "found complete";
        }
        List<Exception> failures = r.undoStarted(op, e.stepsStarted(), trail);
        if (!failures.isEmpty()) {
            PolarException first = failures.get(0) instanceof PolarException p ? p
                    : new PolarException(PolarException.Reason.OTHER, failures.get(0).toString(), failures.get(0));
            failures.stream().skip(1).forEach(first::addSuppressed);
            throw first;
        }
        return "undone";
    }

    private boolean registered(Journal.Entry e) {
        Optional<Registry.Entry> r = ctx.registry().get(e.node());
        return r.isPresent() && r.get().host().equals(e.host()) && r.get().port() == e.port()
                && r.get().dataDirectory().equals(e.dataDirectory());
    }

    private Operation rebuild(Journal.Entry e) {
        return switch (e.kind()) {
            case ADD_STANDBY -> AddStandby.operation(ctx, spec(e));
            case ADD_REPLICA -> AddReplica.operation(ctx, spec(e));
            case REMOVE_NODE -> RemoveNode.resume(ctx, e);
            case DEPLOY_PRIMARY, ADOPT, RECOVER -> throw new IllegalStateException("a " + e.kind().label()
                    + " is never journaled");
        };
    }

    private static NodeSpec spec(Journal.Entry e) {
        NodeSpec.Builder b = NodeSpec.builder().name(e.node()).host(e.host()).port(e.port())
                .dataDirectory(Path.of(e.dataDirectory()));
        e.hostId().ifPresent(b::hostId);
        return b.build();
    }
}
