package dev.polarscale.replication.internal;

import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PolarException;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.NodeStatus;
import dev.polarscale.replication.OperationReport;
import dev.polarscale.replication.PlannedStep;
import dev.polarscale.replication.ReplicationException;
import dev.polarscale.replication.ScaleEvent;
import dev.polarscale.replication.ScalePlan;
import dev.polarscale.replication.ScaleReport;
import dev.polarscale.replication.ScaleTarget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Declarative scaling: the plan of a {@link ScaleTarget} and its application.
 *
 * <p>The plan is computed from the membership and the journal on the primary: interrupted
 * operations are projected as recovery will leave them (an interrupted removal finished, an
 * interrupted add that had not registered its node undone, its port free again). It is then
 * applied one change at a time, each as the ordinary operation (its own lock, journal, recovery
 * and undo), with one extra step right after its recovery, under its lock: the membership must be
 * exactly what the plan expects at that point, else the change stops before doing anything
 * ({@code MEMBERSHIP_CHANGED}). So a reconcile never removes a node it did not plan to remove, and
 * never races another scaler. Before the first change a {@code recover} operation runs when the
 * journal holds interrupted operations, so that a reconcile whose JVM died converges when run
 * again, even when nothing else is left to change.
 */
public final class Reconcile {
    private static final Logger LOG = LoggerFactory.getLogger(Reconcile.class);
    static final String OPERATION = "scaleTo";

    private Reconcile() {
    }

    /** The changes and where the reconcile starts from. */
    private record Diff(List<String> recoveries, List<ScaleDiff.Member> start, List<ScaleDiff.Change> changes) {
    }

    /** The plan of a reconcile; reads the primary and probes ports, changes nothing. */
    public static ScalePlan plan(ScalerContext ctx, ScaleTarget target) {
        validate(ctx, target);
        Diff d = diff(ctx, target);
        return toPlan(ctx, target, d);
    }

    /**
     * Recovers interrupted operations, plans, and applies the plan one change at a time.
     *
     * @param reviewed a plan the caller reviewed: the new plan must make the same changes, else
     *                 nothing changes ({@code MEMBERSHIP_CHANGED}); {@code null} for none
     */
    public static ScaleReport apply(ScalerContext ctx, ScaleTarget target, ScalePlan reviewed) {
        validate(ctx, target);
        long t0 = System.nanoTime();
        String id = UUID.randomUUID().toString();
        EventLog log = ctx.events();
        record(ctx, log, id, ScaleEvent.Outcome.STARTED, null, null, "target " + target);
        List<OperationReport> reports = new ArrayList<>();
        try {
            if (ctx.journal().list().stream().anyMatch(e -> e.state() == Journal.State.RUNNING)) {
                reports.add(ctx.runner().run(recoverOperation(ctx)));
            }
            Diff d = diff(ctx, target);
            ScalePlan plan = toPlan(ctx, target, d);
            if (reviewed != null) {
                requireSame(ctx, reviewed, plan);
            }
            LOG.info("{} - scaleTo {}: {}", ctx.spec().primaryName(), target, plan.changes().isEmpty() ? "nothing to do"
                    : plan.changes().stream().map(ScalePlan.Change::summary).collect(Collectors.joining(", ")));
            NodeRole role = followerRole(ctx);
            List<ScaleDiff.Member> expected = d.start();
            for (ScaleDiff.Change c : d.changes()) {
                reports.add(ctx.runner().run(operation(ctx, target, c, expected)));
                expected = ScaleDiff.after(expected, c, role);
            }
            Duration total = Duration.ofNanos(System.nanoTime() - t0);
            record(ctx, log, id, ScaleEvent.Outcome.DONE, total, null, plan.changes().size() + " change(s): "
                    + plan.changes().stream().map(ScalePlan.Change::summary).collect(Collectors.joining(", ")));
            return new ScaleReport(plan, reports, total);
        } catch (RuntimeException e) {
            record(ctx, log, id, ScaleEvent.Outcome.FAILED, Duration.ofNanos(System.nanoTime() - t0), e,
                    reports.size() + " operation(s) done before");
            throw e;
        }
    }

    private static void validate(ScalerContext ctx, ScaleTarget target) {
        target.policy().ifPresent(p -> p.hosts().forEach(h -> ctx.spec().executor(h)));
        target.nodes().ifPresent(l -> l.forEach(n -> ctx.hostOf(n)));
    }

    private static NodeRole followerRole(ScalerContext ctx) {
        return ctx.spec().sharedStorage().isPresent() ? NodeRole.REPLICA : NodeRole.STANDBY;
    }

    private static Diff diff(ScalerContext ctx, ScaleTarget target) {
        List<Registry.Entry> registered = ctx.registry().list();
        List<Journal.Entry> running = ctx.journal().list().stream()
                .filter(e -> e.state() == Journal.State.RUNNING).toList();
        Set<String> finishing = new HashSet<>();
        Set<String> freed = new HashSet<>();
        List<String> recoveries = new ArrayList<>();
        Set<String> names = registered.stream().map(Registry.Entry::name).collect(Collectors.toSet());
        for (Journal.Entry e : running) {
            String what = e.kind().label() + " " + e.node() + " by " + e.owner() + " (in step "
                    + e.currentStep().orElse("-") + ")";
            if (e.kind().rollsForward()) {
                finishing.add(e.node());
                recoveries.add(what + ": finished");
            } else if (names.contains(e.node())) {
                recoveries.add(what + ": complete (registered)");
            } else {
                freed.add(e.host() + ":" + e.port());
                recoveries.add(what + ": undone");
            }
        }
        List<ScaleDiff.Member> members = registered.stream().filter(e -> !finishing.contains(e.name()))
                .map(ScaleDiff.Member::of).toList();
        List<ScaleDiff.Change> changes;
        if (target.policy().isPresent()) {
            changes = ScaleDiff.forCount(target.count().getAsInt(), target.policy().get(), members,
                    ctx.spec().primaryHost(), freed, FollowerSteps::portAnswers, () -> unhealthy(ctx));
        } else {
            changes = ScaleDiff.forNodes(target.nodes().orElseThrow(), members, ctx.spec().primaryName(),
                    ctx.spec().primaryHost(), followerRole(ctx));
        }
        return new Diff(recoveries, members, changes);
    }

    private static Set<String> unhealthy(ScalerContext ctx) {
        return StatusReader.read(ctx, false).nodes().stream().filter(n -> !n.healthy()).map(NodeStatus::name)
                .collect(Collectors.toSet());
    }

    private static ScalePlan toPlan(ScalerContext ctx, ScaleTarget target, Diff d) {
        NodeRole role = followerRole(ctx);
        List<ScalePlan.Change> out = new ArrayList<>();
        List<ScaleDiff.Member> expected = d.start();
        for (ScaleDiff.Change c : d.changes()) {
            List<PlannedStep> steps;
            try (Operation op = operation(ctx, target, c, expected)) {
                steps = op.plan();
            }
            ScalePlan.Change.Action action = c instanceof ScaleDiff.Remove ? ScalePlan.Change.Action.REMOVE
                    : role == NodeRole.REPLICA ? ScalePlan.Change.Action.ADD_REPLICA : ScalePlan.Change.Action.ADD_STANDBY;
            out.add(new ScalePlan.Change(action, c.node(), c.where(), steps));
            expected = ScaleDiff.after(expected, c, role);
        }
        return new ScalePlan(target, d.recoveries(), out);
    }

    /** The change's own operation, with the membership check after its recovery. */
    private static Operation operation(ScalerContext ctx, ScaleTarget target, ScaleDiff.Change c,
                                       List<ScaleDiff.Member> expected) {
        Operation op;
        if (c instanceof ScaleDiff.Add a) {
            NodeSpec spec = a.spec();
            op = ctx.spec().sharedStorage().isPresent() ? AddReplica.operation(ctx, spec)
                    : AddStandby.operation(ctx, spec);
        } else {
            op = RemoveNode.operation(ctx, c.node(), target.removeOptions());
        }
        return op.withStepAfter("recover", membershipCheck(ctx, c.node(), expected));
    }

    /** Under the change's lock, after its recovery: the membership is exactly the planned one. */
    static Step membershipCheck(ScalerContext ctx, String node, List<ScaleDiff.Member> expected) {
        String host = ctx.spec().primaryHost();
        return Step.of("check membership", host, List.of("SELECT name, role, host, port, data_directory FROM "
                + "polarscale.nodes  -- exactly as planned: " + expected.stream().map(ScaleDiff.Member::name)
                .sorted().toList()), () -> {
                    List<ScaleDiff.Member> now = ctx.registry().list().stream().map(ScaleDiff.Member::of).toList();
                    if (!ScaleDiff.same(now, expected)) {
                        List<String> added = sorted(now.stream().filter(m -> !expected.contains(m)).toList());
                        List<String> gone = sorted(expected.stream().filter(m -> !now.contains(m)).toList());
                        throw new ReplicationException(PolarException.Reason.MEMBERSHIP_CHANGED, node, host, node
                                + " - the cluster's membership changed since scaleTo planned this change (another "
                                + "scaler?): not planned " + added + ", gone " + gone + "; nothing of this change "
                                + "was done: run scaleTo again to plan from the new membership", null);
                    }
                });
    }

    private static List<String> sorted(List<ScaleDiff.Member> l) {
        return l.stream().map(ScaleDiff.Member::toString).sorted().toList();
    }

    private static void requireSame(ScalerContext ctx, ScalePlan reviewed, ScalePlan now) {
        boolean same = reviewed.changes().size() == now.changes().size();
        for (int i = 0; same && i < now.changes().size(); i++) {
            same = reviewed.changes().get(i).sameAs(now.changes().get(i));
        }
        if (!same) {
            throw new ReplicationException(PolarException.Reason.MEMBERSHIP_CHANGED, ctx.spec().primaryName(),
                    ctx.spec().primaryHost(), ctx.spec().primaryName() + " - the cluster changed since the plan was "
                    + "made: it planned [" + reviewed.changes().stream().map(ScalePlan.Change::summary)
                    .collect(Collectors.joining(", ")) + "], now it takes [" + now.changes().stream()
                    .map(ScalePlan.Change::summary).collect(Collectors.joining(", ")) + "]; nothing was changed: "
                    + "plan again", null);
        }
    }

    /** The lock and the recovery of interrupted operations, nothing else. */
    static Operation recoverOperation(ScalerContext ctx) {
        String primary = ctx.spec().primaryName();
        Operation.LockSlot lock = new Operation.LockSlot();
        return new Operation(Operation.Kind.RECOVER, primary, List.of(CommonSteps.lock(ctx, primary, lock),
                CommonSteps.recover(ctx, primary, lock, new HashSet<>())), null, null, false, () -> Duration.ZERO,
                lock);
    }

    /** An event of the reconcile itself (no lock: written on a pooled connection). */
    private static void record(ScalerContext ctx, EventLog log, String id, ScaleEvent.Outcome outcome, Duration took,
                               RuntimeException failure, String message) {
        try {
            ScaleEvent e = OperationRunner.event(id, OPERATION, ctx.spec().primaryName(), Optional.empty(), outcome,
                    took, failure, message);
            log.publish(e);
            if (!log.writePooled(List.of(e))) {
                LOG.info("{} - scaleTo: the {} event could not be recorded", ctx.spec().primaryName(), outcome);
            }
        } catch (RuntimeException ex) {
            LOG.debug("{} - scaleTo: cannot record an event: {}", ctx.spec().primaryName(), ex.toString());
        }
    }
}
