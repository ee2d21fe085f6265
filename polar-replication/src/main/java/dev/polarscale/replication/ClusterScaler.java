package dev.polarscale.replication;

import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.replication.internal.AddReplica;
import dev.polarscale.replication.internal.Adopt;
import dev.polarscale.replication.internal.AddStandby;
import dev.polarscale.replication.internal.DeployPrimary;
import dev.polarscale.replication.internal.Operation;
import dev.polarscale.replication.internal.Reconcile;
import dev.polarscale.replication.internal.RemoveNode;
import dev.polarscale.replication.internal.ScalerContext;
import dev.polarscale.replication.internal.StatusReader;

import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The whole scale-out / scale-in procedure as safe calls: deploy a primary, add a streaming
 * standby (or a PolarDB shared-storage replica), remove a node, and report the cluster's state.
 *
 * <pre>{@code
 * ClusterSpec spec = ClusterSpec.builder()
 *         .primary("primary", "127.0.0.1", 5432, Path.of("/srv/polar/primary"))
 *         .build();
 * try (ClusterScaler scaler = ClusterScaler.forCluster(spec)) {
 *     scaler.deployPrimary();
 *     NodeSpec standby1 = NodeSpec.builder().name("standby-1").port(5433)
 *             .dataDirectory(Path.of("/srv/polar/standby-1")).build();
 *     scaler.planStandby(standby1).forEach(System.out::println);   // exactly what addStandby runs
 *     scaler.addStandby(standby1);
 *     System.out.println(scaler.status().toTable());
 *     scaler.removeNode("standby-1", RemoveOptions.defaults().withDeleteData(true));
 * }
 * }</pre>
 *
 * <p>Every operation is one list of steps (name, host, exact commands and SQL, action, undo),
 * built once per call: {@code plan...} returns that list and runs nothing, the operation runs the
 * same list. What every add guarantees, because the manual procedure breaks clusters without it:
 * <ul>
 *   <li>the node's name, port, slot (and PolarDB host id) are checked against the live cluster,
 *       and the primary's free walsenders and slots counted, before anything is changed; a clash
 *       is refused with nothing left behind;</li>
 *   <li>the slot exists before the node starts; the signal file is written before it starts
 *       and {@code pg_is_in_recovery()} is checked after (a writable follower is stopped at once);</li>
 *   <li>the node is verified with deadlines: it answers, its slot is active, the primary shows it
 *       {@code streaming}, and a canary row committed on the primary is read on the node;</li>
 *   <li>if any step fails, every step done so far is undone in reverse (slot dropped, process
 *       stopped, directory removed) unless {@link NodeSpec#keepOnFailure()}; either way the same
 *       failure throws the same exception; running the same add again then succeeds;</li>
 *   <li>operations on one cluster are serialised by an advisory lock on the primary, across
 *       threads, JVMs and machines;</li>
 *   <li>each operation is journaled on the primary ({@code polarscale.operations}); if the process
 *       running it dies, the next operation of any scaler undoes the interrupted add (or finishes
 *       the interrupted removal) before it runs, so no server, slot or directory is orphaned.</li>
 * </ul>
 * Removal stops the node, waits until its slot is inactive and only then drops the slot: a slot
 * left behind keeps WAL for ever and, on PolarDB, makes DDL on the primary hang.
 *
 * <p><b>Host facts.</b> Creating a scaler, or building any spec, runs nothing. What the scaler
 * needs to know about a host (its login and server OS user, where the server programs are and
 * which exist) is asked through that host's executor when an operation first needs it, and
 * remembered for the life of this scaler; a new scaler asks again (e.g. after binaries were
 * installed). Values the {@link ClusterSpec} gives (installation, OS user) are never asked for.
 *
 * <p><b>Executors.</b> The scaler never closes the executors registered in the {@link ClusterSpec}:
 * whoever created them closes them, after the scaler (an SSH executor keeps its connection until
 * then). {@link #close()} closes only the scaler's connection pool to the primary.
 *
 * <p>Errors: a caller mistake (bad name, a replica on a cluster without shared storage) is an
 * {@link IllegalArgumentException} / {@link IllegalStateException} before anything runs; what the
 * environment does is a {@link PolarException} with a {@link PolarException.Reason}.
 */
public final class ClusterScaler implements AutoCloseable {
    private final ScalerContext ctx;

    private ClusterScaler(ClusterSpec spec) {
        this.ctx = new ScalerContext(spec);
    }

    /** A scaler for the cluster; connects lazily, so creating one has no side effect. */
    public static ClusterScaler forCluster(ClusterSpec spec) {
        return new ClusterScaler(Objects.requireNonNull(spec, "spec"));
    }

    public ClusterSpec spec() {
        return ctx.spec();
    }

    /**
     * Deploys the primary. On plain PostgreSQL: initdb, configuration for replication, the
     * replication role with a {@code scram-sha-256} password and {@code pg_hba.conf} rules for
     * the allowed CIDRs only, start, the membership schema, and a {@code SELECT version()} check.
     * With {@link ClusterSpec#sharedStorage()} (PolarDB, steps A1-A10): the storage is checked and
     * mounted (never formatted), the fresh initdb is moved onto it with {@code polar-initdb.sh},
     * and the primary gets {@code polar_hostid=1}. Undone on failure.
     *
     * @throws PolarException {@link PolarException.Reason#DATA_DIRECTORY_EXISTS},
     *                        {@link PolarException.Reason#PORT_IN_USE}, or the failed step's reason
     */
    public OperationReport deployPrimary() {
        return deployPrimary(DeployOptions.defaults());
    }

    /**
     * {@link #deployPrimary()} with options. On PFS ({@code SharedStorage.pfs}) the storage steps
     * are: format storage (only with {@link DeployOptions#formatEmptyDevice()}, and only a device
     * proven empty), prepare storage (device checked, PFS required, pfsd started unless it runs),
     * check storage (no other cluster on the PFS, the directory absent or empty, {@code pfs info}:
     * room for initdb), shared directory ({@code pfs mkdir}); {@code polar-initdb.sh} then runs as
     * root (its {@code pfs cp} opens the device) and the local directory is given back to the
     * server user with mode 0700. A failure after it empties the PFS directory again.
     *
     * @throws IllegalArgumentException {@link DeployOptions#formatEmptyDevice()} without PFS storage
     * @throws PolarException           also {@link PolarException.Reason#DEVICE_NOT_FORMATTED},
     *                                  {@link PolarException.Reason#DEVICE_NOT_EMPTY},
     *                                  {@link PolarException.Reason#DIRECTORY_NOT_EMPTY} on PFS
     */
    public OperationReport deployPrimary(DeployOptions options) {
        Operation op = DeployPrimary.operation(ctx, Objects.requireNonNull(options, "options"));
        try {
            return run(op);
        } catch (RuntimeException e) {
            ctx.close(); // its connections belong to a primary that is gone
            throw e;
        }
    }

    /** The steps {@link #deployPrimary()} runs, with exact commands and SQL; runs nothing. */
    public List<PlannedStep> planDeployPrimary() {
        return planDeployPrimary(DeployOptions.defaults());
    }

    /** The steps {@link #deployPrimary(DeployOptions)} runs, with exact commands and SQL; runs nothing. */
    public List<PlannedStep> planDeployPrimary(DeployOptions options) {
        return plan(DeployPrimary.operation(ctx, Objects.requireNonNull(options, "options")));
    }

    /**
     * Attaches this scaler to a running primary it did not deploy (plain PostgreSQL or PolarDB, made
     * by hand, by {@code initdb}/{@code pg_ctl}, by another tool): checks that a server runs and is a
     * writable primary; adds PolarScale's managed block LAST to its {@code pg_hba.conf} (the
     * cluster's own lines keep deciding; the block only admits the control machine's superuser
     * connections and the replication role) and reloads; refuses a declaration that clashes with
     * the membership (a name registered differently, a host id another node holds) before touching
     * any follower; gives each declared follower's {@code pg_hba.conf} the control machine's rule
     * the same way (its data directory must hold a cluster); creates the replication role unless it
     * exists (an existing one is used when its password is the spec's, given or generated by this
     * spec); creates the membership schema; registers the primary and the followers {@code options}
     * declares; and reports every slot and walsender on the primary that belongs to no registered
     * node. Idempotent.
     *
     * <p>Until a cluster is adopted, the other operations refuse it before any change:
     * {@code NOT_ADOPTED} when the primary has no membership, {@code AUTH_FAILED} naming adopt when
     * it refuses this machine's connections.
     *
     * <pre>{@code
     * ClusterSpec spec = ClusterSpec.builder()
     *         .primary("primary", "10.0.0.1", 5432, Path.of("/var/lib/postgresql/15/main"))
     *         .host("10.0.0.1", Executors.ssh(db1)).host("10.0.0.2", Executors.ssh(db2))
     *         .installation(new PgInstallation(Path.of("/usr/lib/postgresql/15/bin")))
     *         .superuserPassword(System.getenv("PGPASSWORD"))       // the cluster's own superuser
     *         .build();
     * try (ClusterScaler scaler = ClusterScaler.forCluster(spec)) {
     *     AdoptReport r = scaler.adopt(AdoptOptions.builder()
     *             .follower(NodeSpec.builder().name("standby1").host("10.0.0.2").port(5432)
     *                     .dataDirectory(Path.of("/var/lib/postgresql/15/main")).build(), NodeRole.STANDBY)
     *             .build());
     *     if (!r.complete()) System.out.println("not accounted for: " + r.unknownSlots() + r.unknownStreams());
     *     scaler.addStandby(...);                                   // as on a cluster it deployed
     * }
     * }</pre>
     *
     * @throws IllegalStateException the spec does not give the superuser's password
     * @throws PolarException        {@code SERVER_UNREACHABLE} (no server runs there),
     *                               {@code NOT_A_PRIMARY}, {@code AUTH_FAILED} (also: the replication
     *                               role exists with another password), {@code NODE_EXISTS} (a node
     *                               registered differently), {@code HOST_ID_TAKEN},
     *                               {@code NODE_NOT_FOUND} (a declared data directory holds no
     *                               cluster), ...
     */
    public AdoptReport adopt(AdoptOptions options) {
        Adopt adopt = Adopt.of(ctx, Objects.requireNonNull(options, "options"));
        OperationReport r = run(adopt.operation());
        return new AdoptReport(r, adopt.registered(), adopt.unknownSlots(), adopt.unknownStreams());
    }

    /** The steps {@link #adopt} runs, with exact commands and SQL; runs nothing. */
    public List<PlannedStep> planAdopt(AdoptOptions options) {
        return plan(Adopt.of(ctx, Objects.requireNonNull(options, "options")).operation());
    }

    /**
     * Adds a PolarDB read-only node on the primary's shared storage (steps B1-B12): the storage
     * is mounted (never formatted), the slot is created, {@code polar-initdb.sh ... replica}
     * prepares the local directory (and is checked, since its exit code lies), configuration
     * comes from the host's cached template, {@code polar_hostid} is unique (the lowest free one
     * unless given), {@code replica.signal} is written, then start and verification as for
     * {@link #addStandby}.
     *
     * @throws IllegalStateException the cluster has no shared storage (use {@link #addStandby})
     */
    public OperationReport addReplica(NodeSpec node) {
        return run(AddReplica.operation(ctx, Objects.requireNonNull(node, "node")));
    }

    /** The steps {@link #addReplica} runs, with exact commands and SQL; runs nothing. */
    public List<PlannedStep> planReplica(NodeSpec node) {
        return plan(AddReplica.operation(ctx, Objects.requireNonNull(node, "node")));
    }

    /**
     * Adds a streaming standby with its own copy of the data: slot, base backup,
     * {@code standby.signal}, start, verification. Works on plain PostgreSQL.
     *
     * @return the steps with their durations and the canary lag
     * @throws PolarException a step failed ({@link PolarException#reason()} says why: e.g.
     *                        {@code NODE_EXISTS}, {@code PORT_IN_USE}, {@code NO_FREE_SLOT} before
     *                        any change); what was done has been undone
     */
    public OperationReport addStandby(NodeSpec node) {
        return run(AddStandby.operation(ctx, Objects.requireNonNull(node, "node")));
    }

    /** The steps {@link #addStandby} runs, with exact commands and SQL; runs nothing. */
    public List<PlannedStep> planStandby(NodeSpec node) {
        return plan(AddStandby.operation(ctx, Objects.requireNonNull(node, "node")));
    }

    /**
     * Removes a node: stop it, wait until its slot is inactive, drop the slot, forget the node,
     * and optionally delete its data directory. Safe to call again after a failure. A slot
     * without a registered node (left by a failed add), and what an interrupted or kept add of
     * this name left, are cleaned up too.
     *
     * @throws IllegalArgumentException the name is not a node name, or it is the primary
     * @throws PolarException           {@link PolarException.Reason#NODE_NOT_FOUND}: nothing of that name
     */
    public OperationReport removeNode(String name, RemoveOptions options) {
        return run(RemoveNode.operation(ctx, name, options));
    }

    /** The steps {@link #removeNode} runs, with exact commands and SQL; reads the membership, changes nothing. */
    public List<PlannedStep> planRemove(String name, RemoveOptions options) {
        return plan(RemoveNode.operation(ctx, name, options));
    }

    /**
     * What {@link #scaleTo} would do now: the interrupted operations its recovery handles first, then
     * each add or removal with the exact steps of its operation. Reads the membership and the journal
     * on the primary, asks node health when it must choose whom to remove, and probes candidate ports
     * with a TCP connect; changes nothing.
     *
     * <pre>{@code
     * NamingPolicy policy = NamingPolicy.builder().prefix("standby-").ports(5433)
     *         .dataDirectories(Path.of("/srv/polar")).build();
     * System.out.print(scaler.planScale(ScaleTarget.count(3, policy)).summary());
     * }</pre>
     *
     * @throws IllegalArgumentException a host of the target is not in the {@link ClusterSpec}
     * @throws PolarException           {@code NODE_EXISTS}: a listed node is registered differently;
     *                                  {@code PORT_IN_USE}: no free port left in the policy's range
     */
    public ScalePlan planScale(ScaleTarget target) {
        return Reconcile.plan(ctx, Objects.requireNonNull(target, "target"));
    }

    /**
     * Makes the cluster's followers what {@code target} says: recovers interrupted operations, plans
     * from the membership (as {@link #planScale}), and runs each add or removal as its ordinary
     * operation (its own lock, journal, recovery and undo), one at a time. Each change first checks,
     * under its lock, that the membership is exactly what the plan expects; if another scaler changed
     * it, that change stops before doing anything ({@code MEMBERSHIP_CHANGED}) and so does the
     * reconcile: call again to plan from the new membership. A failed change is undone like any
     * operation and its exception is thrown; the changes before it stay. If the process dies, calling
     * {@code scaleTo} again converges to the same cluster, with nothing orphaned.
     *
     * <pre>{@code
     * ScaleReport r = scaler.scaleTo(ScaleTarget.count(3, policy));   // standby-1..3
     * scaler.scaleTo(ScaleTarget.count(1, policy));                   // removes the two others
     * }</pre>
     *
     * @throws PolarException the failed change's reason, or {@code MEMBERSHIP_CHANGED}
     */
    public ScaleReport scaleTo(ScaleTarget target) {
        return Reconcile.apply(ctx, Objects.requireNonNull(target, "target"), null);
    }

    /**
     * Applies a plan {@link #planScale} made and the caller reviewed: as {@link #scaleTo(ScaleTarget)},
     * but if the cluster now needs other changes than {@code reviewed} shows, nothing is changed
     * ({@code MEMBERSHIP_CHANGED}).
     */
    public ScaleReport scaleTo(ScalePlan reviewed) {
        Objects.requireNonNull(reviewed, "reviewed");
        return Reconcile.apply(ctx, reviewed.target(), reviewed);
    }

    /**
     * The cluster's event history, newest first: every operation's start and end and every step's
     * outcome, by any scaler, kept on the primary within the spec's {@link EventRetention}.
     *
     * <pre>{@code
     * scaler.events(EventQuery.latest(20)).forEach(System.out::println);
     * }</pre>
     */
    public List<ScaleEvent> events(EventQuery query) {
        return ctx.events().query(Objects.requireNonNull(query, "query"));
    }

    /**
     * Hears every event of this scaler's operations as it happens (also when it cannot be written
     * to the primary), on the thread running the operation; an exception it throws is logged and
     * changes nothing. E.g. {@code dev.polarscale.replication.micrometer.PolarScaleMetrics}.
     */
    public void addEventListener(Consumer<ScaleEvent> listener) {
        ctx.eventListeners().add(Objects.requireNonNull(listener, "listener"));
    }

    /** Stops {@code listener} hearing events; returns whether it was listening. */
    public boolean removeEventListener(Consumer<ScaleEvent> listener) {
        return ctx.eventListeners().remove(listener);
    }

    /**
     * Every registered node with reachability, recovery state, slot state and replay lag. Never
     * throws for an unreachable node or host: its row carries the error.
     */
    public ClusterStatus status() {
        return StatusReader.read(ctx);
    }

    /** {@link #status()} of the nodes only: no storage rows, no command on any host (read routing's refresh). */
    ClusterStatus nodeStatus() {
        return StatusReader.read(ctx, false);
    }

    /** Physical replication slots on the primary. */
    public ReplicationSlotManager slots() {
        return ctx.slots();
    }

    /** The primary as a {@link PostgresNode}. */
    public PostgresNode primaryNode() {
        return ctx.primaryNode();
    }

    /** A registered node as a {@link PostgresNode}, to connect to it or stop it. */
    public PostgresNode node(String name) {
        return ctx.registry().get(name).map(ctx::node)
                .orElseThrow(() -> new IllegalArgumentException("no node named '" + name + "' in the cluster"));
    }

    /** Closes the connection pool to the primary; the spec's executors stay open (they are the caller's). */
    @Override
    public void close() {
        ctx.close();
    }

    private OperationReport run(Operation op) {
        return ctx.runner().run(op);
    }

    private static List<PlannedStep> plan(Operation op) {
        try (op) {
            return op.plan();
        }
    }
}
