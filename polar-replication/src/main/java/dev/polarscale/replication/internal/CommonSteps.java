package dev.polarscale.replication.internal;

import java.util.List;
import java.util.Set;

/** The two steps every operation on a running cluster starts with: take the lock, recover. */
final class CommonSteps {
    private CommonSteps() {
    }

    /** Takes the cluster lock; the operation holds it until it ends. */
    static Step lock(ScalerContext ctx, String node, Operation.LockSlot slot) {
        return Step.of("lock", ctx.spec().primaryHost(), List.of("SELECT pg_try_advisory_lock(<polarscale key>)  "
                + "-- waits up to " + ctx.spec().lockTimeout().toMillis() + " ms; held until the operation ends"),
                () -> slot.hold(ctx.lock(node)));
    }

    /**
     * Under the lock: finishes or undoes what interrupted operations left (any node), and a kept
     * failed add of this node. Adds the names of the nodes it handled to {@code recovered}.
     */
    static Step recover(ScalerContext ctx, String node, Operation.LockSlot slot, Set<String> recovered) {
        return Step.of("recover", ctx.spec().primaryHost(), List.of("SELECT ... FROM polarscale.operations  "
                + "-- an operation whose process died is undone (an add) or finished (a removal)"),
                () -> recovered.addAll(new Recovery(ctx).recover(slot.connection(), node)));
    }
}
