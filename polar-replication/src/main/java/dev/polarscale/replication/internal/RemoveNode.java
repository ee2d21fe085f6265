package dev.polarscale.replication.internal;

import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.RemoveOptions;
import dev.polarscale.replication.ReplicationException;
import dev.polarscale.replication.ReplicationSlotManager;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Removes a node: lock, recover, check, stop, await slot inactive, drop slot, unregister, and
 * optionally delete data. The order matters: a slot dropped while its node runs is refused, and
 * a slot kept after its node stopped keeps WAL for ever (and hangs DDL on PolarDB). A slot that
 * no node owns (left by a failed add) is dropped the same way. Every step is idempotent, so an
 * interrupted removal is finished by the next scaler.
 */
public final class RemoveNode {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RemoveNode.class);

    private RemoveNode() {
    }

    /** The node as it was when the removal started: from the registry, or from the journal. */
    private record Target(String name, String host, int port, Path dataDirectory, Optional<String> osUser) {
    }

    /**
     * A removal of the node as the registry has it now (read outside the lock, checked again
     * under it).
     *
     * @throws IllegalArgumentException the name is not a node name, or is the primary's
     */
    public static Operation operation(ScalerContext ctx, String name, RemoveOptions options) {
        Objects.requireNonNull(options, "options");
        SlotName.forNode(Objects.requireNonNull(name, "name"));
        if (name.equals(ctx.spec().primaryName())) {
            throw new IllegalArgumentException("cannot remove the primary '" + name + "'");
        }
        Optional<Target> target = ctx.registry().get(name).map(e -> new Target(e.name(), e.host(), e.port(),
                Path.of(e.dataDirectory()), e.osUser()));
        return build(ctx, name, options, target);
    }

    /** The removal an interrupted process journaled, to be finished. */
    static Operation resume(ScalerContext ctx, Journal.Entry e) {
        RemoveOptions options = RemoveOptions.defaults().withDeleteData(e.deleteData()).withForce(e.force());
        return build(ctx, e.node(), options, Optional.of(new Target(e.node(), e.host(), e.port(),
                Path.of(e.dataDirectory()), e.osUser())));
    }

    private static Operation build(ScalerContext ctx, String name, RemoveOptions options, Optional<Target> target) {
        ClusterSpec spec = ctx.spec();
        SlotName slot = SlotName.forNode(name);
        Optional<PostgresNode> node = target.map(t -> ctx.node(t.name(), t.host(), t.port(), t.dataDirectory(),
                t.osUser()));
        String host = target.map(Target::host).orElse(spec.primaryHost());
        Operation.LockSlot lock = new Operation.LockSlot();
        Set<String> recovered = new HashSet<>();
        String none = "(" + name + " is not registered: nothing to do here)";

        List<Step> steps = new ArrayList<>();
        steps.add(CommonSteps.lock(ctx, name, lock));
        steps.add(CommonSteps.recover(ctx, name, lock, recovered));
        steps.add(Step.of("check", spec.primaryHost(), List.of("SELECT ... FROM polarscale.nodes WHERE name = '"
                + name + "'  -- as planned", "SELECT ... FROM pg_replication_slots WHERE slot_name = '" + slot
                + "'"), () -> {
                    Optional<Target> now = ctx.registry().get(name).map(e -> new Target(e.name(), e.host(), e.port(),
                            Path.of(e.dataDirectory()), e.osUser()));
                    if (!sameNode(now, target)) {
                        throw new ReplicationException(PolarException.Reason.OTHER, name, name + " - changed while "
                                + "this removal waited for the cluster lock (now " + now.map(Target::toString)
                                .orElse("not registered") + "): plan the removal again");
                    }
                    if (now.isEmpty() && !recovered.contains(name) && ctx.slots().get(slot).isEmpty()) {
                        throw new ReplicationException(PolarException.Reason.NODE_NOT_FOUND, name,
                                "no node named '" + name + "' in the cluster");
                    }
                }));
        boolean[] unreachable = {false};
        steps.add(Step.of("stop", host, List.of(node.map(n -> n.serverCommand("pg_ctl", "stop", "-D",
                n.dataDirectory().toString(), "-m", "fast", "-w").toString()).orElse(none)
                + (options.force() ? "  -- if " + host + " cannot be reached: go on (force)" : "")),
                () -> node.ifPresent(n -> unreachable[0] = stop(n, name, host, options.force()))));
        steps.add(Step.of("await slot inactive", spec.primaryHost(), List.of("SELECT active FROM "
                + "pg_replication_slots WHERE slot_name = '" + slot + "'  -- until false, up to "
                + options.slotInactiveWait().toMillis() + " ms" + (options.force()
                ? "; an unreachable node's walsender is ended instead (force)" : "")), () -> {
                    if (!unreachable[0]) {
                        ctx.slots().awaitInactive(slot, options.slotInactiveWait());
                    }
                }));
        steps.add(Step.of("drop slot", spec.primaryHost(), List.of("SELECT pg_drop_replication_slot('" + slot + "')"),
                () -> ctx.slots().drop(slot, unreachable[0]
                        ? ReplicationSlotManager.DropOptions.terminateWalSender(Duration.ofSeconds(10))
                        : ReplicationSlotManager.DropOptions.refuseActive())));
        steps.add(Step.of("unregister", spec.primaryHost(), List.of("DELETE FROM polarscale.nodes WHERE name = '"
                + name + "'"), () -> ctx.registry().remove(name)));
        steps.add(Step.of("revoke replication", spec.primaryHost(), List.of("pg_hba.conf managed block on "
                + spec.primaryName() + ": without " + host + "'s rule if no other node runs there (written and "
                + "pg_ctl reload only if it changes)"),
                () -> {
                    java.util.Set<String> hosts = PrimaryHba.nodeHosts(ctx, List.of());
                    if (!hosts.contains(host)) { // its host keeps other nodes: the rules stay as they are
                        PrimaryHba.apply(ctx, hosts, true);
                    }
                }));
        if (options.deleteData()) {
            steps.add(Step.of("delete data", host, List.of(node.map(n -> "rm -rf -- " + n.dataDirectory())
                    .orElse(none)), () -> node.ifPresent(n -> {
                        if (unreachable[0]) {
                            LOG.warn("{} - {} cannot be reached: its data directory {} is left there", name, host,
                                    n.dataDirectory());
                        } else {
                            n.deleteDataDirectory();
                        }
                    })));
        }
        return new Operation(Operation.Kind.REMOVE_NODE, name, steps, () -> target.map(t -> Journal.Entry.of(
                Operation.Kind.REMOVE_NODE, name, t.host(), t.port(), t.dataDirectory().toString(),
                java.util.OptionalInt.empty(), options.deleteData(), options.force(), t.osUser())).orElse(null), "stop", false,
                () -> Duration.ZERO, lock);
    }

    /**
     * One bounded attempt to stop the node.
     *
     * @return whether its host or server could not be reached (only with {@code force})
     */
    private static boolean stop(PostgresNode n, String name, String host, boolean force) {
        try {
            n.stop();
            return false;
        } catch (PolarException e) {
            boolean gone = e.reason() == PolarException.Reason.HOST_UNREACHABLE
                    || e.reason() == PolarException.Reason.CONNECTION_LOST
                    || e.reason() == PolarException.Reason.TIMEOUT;
            if (!gone) {
                throw e;
            }
            if (!force) {
                throw new ReplicationException(e.reason(), name, host, name + " - cannot stop it: " + host
                        + " cannot be reached (" + e.getMessage() + "); nothing was changed. If the host is gone, "
                        + "RemoveOptions.withForce(true) drops its slot and forgets it", e);
            }
            LOG.warn("{} - cannot stop it, {} cannot be reached ({}): dropping its slot anyway (force)", name, host,
                    e.getMessage());
            return true;
        }
    }

    private static boolean sameNode(Optional<Target> now, Optional<Target> planned) {
        if (now.isEmpty() || planned.isEmpty()) {
            return now.isEmpty() == planned.isEmpty() || planned.isPresent();
        }
        Target a = now.get();
        Target b = planned.get();
        return a.host().equals(b.host()) && a.port() == b.port() && a.dataDirectory().equals(b.dataDirectory());
    }
}
