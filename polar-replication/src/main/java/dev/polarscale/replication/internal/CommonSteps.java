package dev.polarscale.replication.internal;

import dev.polarscale.core.Command;
import dev.polarscale.core.NodeState;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.ReplicationException;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The two steps every operation on a running cluster starts with (take the lock, recover), and
 * the empty-directory check of every new node.
 */
final class CommonSteps {
    private CommonSteps() {
    }

    /** The plan's note on how a server starts: without the caller's libpq variables. */
    static final String CLEAN_ENV_NOTE = "  (started without the caller's PGPASSWORD, PGPASSFILE, PGSERVICE and "
            + "other libpq variables: the walreceiver authenticates with the node's own password file)";

    /** Takes the cluster lock; the operation holds it until it ends. */
    static Step lock(ScalerContext ctx, String node, Operation.LockSlot slot) {
        return Step.of("lock", ctx.spec().primaryHost(), List.of("SELECT pg_try_advisory_lock(<polarscale key>)  "
                + "-- waits up to " + ctx.spec().lockTimeout().toMillis() + " ms; held until the operation ends"),
                () -> {
                    try {
                        slot.hold(ctx.lock(node));
                    } catch (ReplicationException e) {
                        if (e.reason() != PolarException.Reason.AUTH_FAILED) {
                            throw e;
                        }
                        throw refused(ctx, node, e);
                    }
                });
    }

    /**
     * The primary refused this machine's superuser connection: the server's own words (the pool's
     * message hides them) and what to do, since a cluster PolarScale did not deploy refuses it
     * until {@code adopt} admits it.
     */
    private static ReplicationException refused(ScalerContext ctx, String node, ReplicationException e) {
        String server = e.getMessage();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLException && t.getMessage() != null && !e.getMessage().contains(t.getMessage())) {
                server = e.getMessage() + " [" + t.getMessage() + "]";
            }
        }
        ClusterSpec spec = ctx.spec();
        return new ReplicationException(PolarException.Reason.AUTH_FAILED, node, spec.primaryHost(), server
                + "\n" + spec.primaryHost() + ":" + spec.primaryPort() + " refuses " + spec.superuser() + " from this "
                + "machine: a cluster PolarScale did not deploy must be adopted first (ClusterScaler.adopt, which "
                + "admits this machine in the primary's pg_hba.conf); otherwise check "
                + "ClusterSpec.Builder.superuser / superuserPassword / controlAddress", e);
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

    /**
     * Refuses a data directory that holds a cluster or anything else: a step that fails later
     * deletes the directory it made, so it must not have held anything of the user's.
     */
    static void requireEmptyDirectory(PostgresNode n, String host) {
        if (n.status() != NodeState.NO_DATA_DIRECTORY || n.fileExists("PG_VERSION")) {
            throw new ReplicationException(PolarException.Reason.DATA_DIRECTORY_EXISTS, n.name(), host, n.name()
                    + " - data directory " + n.dataDirectory() + " on " + host + " already holds a cluster", null);
        }
        Command empty = Command.of("sh", "-c", "[ ! -e \"$1\" ] || [ -z \"$(ls -A \"$1\")\" ]", "sh",
                n.dataDirectory().toString()).withTimeout(Duration.ofSeconds(30));
        if (!n.executor().execute(n.osUser().map(empty::asUser).orElse(empty)).succeeded()) {
            throw new ReplicationException(PolarException.Reason.DIRECTORY_NOT_EMPTY, n.name(), host, n.name()
                    + " - data directory " + n.dataDirectory() + " on " + host + " exists and is not empty", null);
        }
    }
}
