package dev.polarscale.replication;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.ConnInfo;
import dev.polarscale.core.HbaRule;
import dev.polarscale.core.HostId;
import dev.polarscale.core.PolarStorage;
import dev.polarscale.core.NodeConfig;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.NodeState;
import dev.polarscale.core.OsUsers;
import dev.polarscale.core.PgBinaries;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import dev.polarscale.core.WalLevel;
import dev.polarscale.replication.internal.BaseBackup;
import dev.polarscale.replication.internal.ClusterLock;
import dev.polarscale.replication.internal.Registry;
import dev.polarscale.replication.internal.StepRunner;
import dev.polarscale.storage.ConfigTemplates;
import dev.polarscale.storage.PolarInitdb;
import dev.polarscale.storage.SharedStorage;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

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
 *     scaler.addStandby(NodeSpec.builder().name("standby1").port(5433)
 *             .dataDirectory(Path.of("/srv/polar/standby1")).build());
 *     System.out.println(scaler.status().toTable());
 *     scaler.removeNode("standby1", RemoveOptions.defaults().withDeleteData(true));
 * }
 * }</pre>
 *
 * <p>What every add guarantees, because the manual procedure breaks clusters without it:
 * <ul>
 *   <li>the node's name, port, slot (and PolarDB host id) are checked against the live cluster
 *       before anything is changed; a clash is refused with nothing left behind;</li>
 *   <li>the slot exists before the node starts; the signal file is written before it starts
 *       and {@code pg_is_in_recovery()} is checked after (a writable follower is stopped at once);</li>
 *   <li>the node is verified with deadlines: it answers, its slot is active, the primary shows it
 *       {@code streaming}, and a canary row committed on the primary is read on the node;</li>
 *   <li>if any step fails, every step done so far is undone in reverse (slot dropped, process
 *       stopped, directory removed) unless {@link NodeSpec#keepOnFailure()}; running the same add
 *       again then succeeds;</li>
 *   <li>operations on one cluster are serialised by an advisory lock on the primary, across
 *       threads, JVMs and machines.</li>
 * </ul>
 * Removal stops the node, waits until its slot is inactive and only then drops the slot: a slot
 * left behind keeps WAL for ever and, on PolarDB, makes DDL on the primary hang.
 */
public final class ClusterScaler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterScaler.class);
    private static final int MAX_SENDERS = 16;
    private static final int PRIMARY_HOST_ID = 1;

    private final ClusterSpec spec;
    private final Map<String, Optional<String>> osUsers = new ConcurrentHashMap<>();
    private volatile PgInstallation installation;
    private volatile HikariDataSource pool;

    private ClusterScaler(ClusterSpec spec) {
        this.spec = spec;
    }

    /** A scaler for the cluster; connects lazily, so creating one has no side effect. */
    public static ClusterScaler forCluster(ClusterSpec spec) {
        return new ClusterScaler(java.util.Objects.requireNonNull(spec, "spec"));
    }

    public ClusterSpec spec() {
        return spec;
    }

    // ------------------------------------------------------------------ primary

    /**
     * Deploys the primary. On plain PostgreSQL: initdb, configuration for replication, the
     * replication role with a {@code scram-sha-256} password and {@code pg_hba.conf} rules for
     * the allowed CIDRs only, start, the membership schema, and a {@code SELECT version()} check.
     * With {@link ClusterSpec#sharedStorage()} (PolarDB, steps A1-A10): the storage is checked and
     * mounted (never formatted), the fresh initdb is moved onto it with {@code polar-initdb.sh},
     * and the primary gets {@code polar_hostid=1}. Undone on failure.
     */
    public OperationReport deployPrimary() {
        PostgresNode primary = primaryNode();
        Optional<SharedStorage> storage = spec.sharedStorage();
        StepRunner run = new StepRunner(primary.name(), "deployPrimary", spec.listener());
        try {
            run.step("check", () -> {
                if (primary.status() != NodeState.NO_DATA_DIRECTORY) {
                    throw new IllegalStateException(primary.name() + " - data directory " + primary.dataDirectory()
                            + " already holds a cluster; attach to it instead of deploying");
                }
                requirePortFree(primary.name(), spec.primaryHost(), primary.port().value());
                storage.ifPresent(s -> requirePolarDb(primary));
            }, null);
            if (storage.isPresent()) {
                run.step("prepare storage", () -> storage.get().prepare(primary.executor()), null);
            }
            run.stepUndoingPartial("initdb", primary::initdb, primary::deleteDataDirectory);
            if (storage.isPresent()) {
                run.step("polar-initdb", () -> polarInitdb(primary).initPrimary(primary.executor(),
                        primary.dataDirectory(), storage.get()), () -> emptySharedStorage(primary, storage.get()));
            }
            run.step("configure", () -> {
                primary.writeFile("postgresql.conf", primaryConfig().mergeInto(primary.readFile("postgresql.conf")));
                primary.writeFile("pg_hba.conf", HbaRule.mergeInto(primary.readFile("pg_hba.conf"), hbaRules()));
            }, null);
            run.stepUndoingPartial("start", primary::start, () -> primary.stop(PostgresNode.StopMode.IMMEDIATE));
            run.step("replication role", () -> createReplicationRole(primary), null);
            run.step("registry", () -> {
                registry().ensureSchema();
                registry().add(new Registry.Entry(primary.name(), NodeRole.PRIMARY, spec.primaryHost(),
                        primary.port().value(), primary.dataDirectory().toString(),
                        storage.isPresent() ? OptionalInt.of(PRIMARY_HOST_ID) : OptionalInt.empty(),
                        primary.osUser()));
            }, null);
            run.step("verify", () -> {
                String version = primary.awaitReady(spec.verifyTimeout());
                if (storage.isPresent() && !version.contains("PolarDB")) {
                    throw new ReplicationException(PolarException.Reason.OTHER, null, primary.name() + " - expected a PolarDB server, got: " + version);
                }
            }, null);
            run.commit();
            return run.report(Duration.ZERO);
        } catch (RuntimeException e) {
            closePool();
            throw rollback(run, e);
        }
    }

    // ------------------------------------------------------------------ PolarDB replica

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
        SharedStorage storage = spec.sharedStorage().orElseThrow(() -> new IllegalStateException(node.name()
                + " - addReplica needs a PolarDB cluster (ClusterSpec.Builder.sharedStorage); "
                + "on plain PostgreSQL use addStandby"));
        PostgresNode replica = followerNode(node);
        String host = hostOf(node);
        // polar-initdb.sh does not quote its arguments: refuse an unusable path before the slot
        // and the directory exist, not in step B4 after them
        polarInitdb(replica).command(replica.dataDirectory(), storage, "replica");
        freshConnections();
        StepRunner run = new StepRunner(node.name(), "addReplica", spec.listener());
        try (ClusterLock ignored = lock(node.name())) {
            try {
                HostId hostId = run.call("check", () -> {
                    requirePolarDb(replica);
                    checkFree(node, replica);
                    return chooseHostId(node);
                }, null);
                run.step("mount storage", () -> storage.prepare(replica.executor()), null);
                run.step("create slot", () -> createSlot(node), () -> dropSlot(node));
                run.stepUndoingPartial("local directory", () -> replica.createDirectory(replica.dataDirectory()),
                        replica::deleteDataDirectory);
                run.step("polar-initdb", () -> polarInitdb(replica).initReplica(replica.executor(),
                        replica.dataDirectory(), storage), null);
                run.step("config templates", () -> templates(replica).copyConfigFilesTo(replica.dataDirectory()),
                        null);
                run.step("configure", () -> {
                    replica.writeFile("postgresql.conf",
                            replicaConfig(node, hostId, storage).mergeInto(replica.readFile("postgresql.conf")));
                    replica.writeFile("pg_hba.conf", HbaRule.mergeInto(replica.readFile("pg_hba.conf"), hbaRules()));
                    replica.writeFile("polarscale.pgpass", pgpassLine(spec.primaryHost(), spec.primaryPort().value()),
                            spec.replicationPassword());
                    replica.writeFile(NodeRole.REPLICA.signalFile().orElseThrow(), "");
                }, null);
                run.stepUndoingPartial("start", replica::start, () -> replica.stop(PostgresNode.StopMode.IMMEDIATE));
                Duration lag = verifyFollower(run, replica, node);
                run.step("register", () -> {
                    registry().add(new Registry.Entry(node.name(), NodeRole.REPLICA, host, node.port().value(),
                            node.dataDirectory().toString(), OptionalInt.of(hostId.value()), replica.osUser()));
                    registry().clearPending(node.name());
                }, () -> registry().remove(node.name()));
                run.commit();
                return run.report(lag);
            } catch (RuntimeException e) {
                throw failedAdd(run, node, e);
            }
        }
    }

    /** The steps {@link #addReplica} would run, with exact commands and SQL; runs nothing. */
    public List<PlannedStep> planReplica(NodeSpec node) {
        SharedStorage storage = spec.sharedStorage().orElseThrow(() -> new IllegalStateException(node.name()
                + " - planReplica needs a PolarDB cluster (ClusterSpec.Builder.sharedStorage)"));
        PostgresNode replica = followerNode(node);
        String host = hostOf(node);
        String hostId = node.hostId().map(HostId::toString).orElse("<lowest free>");
        List<PlannedStep> plan = new ArrayList<>();
        plan.add(lockStep());
        plan.add(checkStep(node, replica, host));
        plan.add(new PlannedStep("mount storage", host, List.of(storage.toString()
                + ": checked and mounted, never formatted")));
        plan.add(createSlotStep(node));
        plan.add(new PlannedStep("local directory", host, List.of("mkdir -p -m 0700 " + replica.dataDirectory())));
        plan.add(new PlannedStep("polar-initdb", host, List.of(
                polarInitdb(replica).command(replica.dataDirectory(), storage, "replica").toString(),
                "check: " + replica.dataDirectory() + "/PG_VERSION exists, " + storage.initdbDirectory()
                        + " gained nothing")));
        plan.add(new PlannedStep("config templates", host, List.of("cp postgresql.conf pg_hba.conf pg_ident.conf "
                + "from the host's cached initdb template to " + replica.dataDirectory())));
        NodeConfig cfg = replicaConfig(node, node.hostId().orElse(HostId.of(HostId.MAX)), storage);
        plan.add(new PlannedStep("configure", host, List.of(
                "postgresql.conf managed block (polar_hostid=" + hostId + "):\n      "
                        + cfg.renderMasked().strip().replace("\n", "\n      "),
                "pg_hba.conf managed block: " + hbaRules().stream().map(HbaRule::render).toList(),
                "polarscale.pgpass (0600): " + spec.primaryHost() + ":" + spec.primaryPort() + ":*:"
                        + spec.replicationUser() + ":" + Command.MASK,
                "replica.signal")));
        plan.addAll(startVerifyRegister(node, replica, host));
        return plan;
    }

    // ------------------------------------------------------------------ standby

    /** The steps {@link #addStandby} would run, with exact commands and SQL; runs nothing. */
    public List<PlannedStep> planStandby(NodeSpec node) {
        PostgresNode primary = primaryNode();
        PostgresNode standby = followerNode(node);
        String host = hostOf(node);
        List<PlannedStep> plan = new ArrayList<>();
        plan.add(lockStep());
        plan.add(checkStep(node, standby, host));
        plan.add(createSlotStep(node));
        boolean basebackup = BaseBackup.hasPgBasebackup(standby);
        List<String> backup = new ArrayList<>();
        backup.add("mkdir -p -m 0700 " + standby.dataDirectory());
        if (basebackup) {
            backup.add(BaseBackup.pgBasebackup(standby, spec.primaryHost(), primary.port().value(),
                    spec.replicationUser(), spec.replicationPassword(), node.slotName()).toString());
        } else {
            backup.add("SELECT pg_backup_start('polarscale " + node.name() + "', true)");
            backup.add(BaseBackup.copyCommand(primary, standby).toString());
            backup.add("SELECT labelfile FROM pg_backup_stop(true)  -- written to backup_label");
        }
        plan.add(new PlannedStep("base backup", host, backup));
        plan.add(new PlannedStep("configure", host, List.of(
                "postgresql.conf managed block:\n      "
                        + standbyConfig(node).renderMasked().strip().replace("\n", "\n      "),
                "polarscale.pgpass (0600): " + spec.primaryHost() + ":" + primary.port() + ":*:"
                        + spec.replicationUser() + ":" + Command.MASK,
                "standby.signal")));
        plan.addAll(startVerifyRegister(node, standby, host));
        return plan;
    }

    private PlannedStep lockStep() {
        return new PlannedStep("lock", spec.primaryHost(), List.of("SELECT pg_try_advisory_lock(<polarscale key>)"));
    }

    private PlannedStep checkStep(NodeSpec node, PostgresNode follower, String host) {
        return new PlannedStep("check", host, List.of(
                "SELECT ... FROM polarscale.nodes  -- name " + node.name() + ", port " + node.port()
                        + node.hostId().map(h -> ", polar_hostid " + h).orElse("") + " unused",
                "SELECT ... FROM pg_replication_slots WHERE slot_name = '" + node.slotName() + "'  -- absent",
                "connect " + host + ":" + node.port() + "  -- nothing listens",
                follower.serverCommand("pg_ctl", "status", "-D", follower.dataDirectory().toString()).toString()));
    }

    private static PlannedStep createSlotStep(NodeSpec node) {
        return new PlannedStep("create slot", "primary", List.of(
                "INSERT INTO polarscale.pending (node, slot) VALUES ('" + node.name() + "', '" + node.slotName()
                        + "')  -- lets a retry reclaim the slot if the primary dies mid-add",
                "SELECT pg_create_physical_replication_slot('" + node.slotName() + "', true)"));
    }

    private List<PlannedStep> startVerifyRegister(NodeSpec node, PostgresNode follower, String host) {
        return List.of(
                new PlannedStep("start", host, List.of(follower.serverCommand("pg_ctl", "start", "-D",
                        follower.dataDirectory().toString(), "-l", follower.startupLog().toString(), "-o",
                        "-p " + node.port() + " -k <data directory>", "-w").toString())),
                new PlannedStep("verify", host, List.of(
                        "SELECT pg_is_in_recovery()  -- on " + node.name() + ", must be true",
                        "SELECT active FROM pg_replication_slots WHERE slot_name = '" + node.slotName() + "'",
                        "SELECT state FROM pg_stat_replication WHERE application_name = '" + node.name() + "'",
                        "INSERT INTO polarscale.canary ...  -- then read back on " + node.name())),
                new PlannedStep("register", spec.primaryHost(), List.of("INSERT INTO polarscale.nodes ...")));
    }

    /**
     * Adds a streaming standby with its own copy of the data: slot, base backup,
     * {@code standby.signal}, start, verification. Works on plain PostgreSQL.
     *
     * @return the steps with their durations and the canary lag
     * @throws IllegalArgumentException the name, port or slot is taken (nothing was changed)
     * @throws PolarException           a step failed; what was done has been undone
     */
    public OperationReport addStandby(NodeSpec node) {
        PostgresNode primary = primaryNode();
        PostgresNode standby = followerNode(node);
        String host = hostOf(node);
        freshConnections();
        StepRunner run = new StepRunner(node.name(), "addStandby", spec.listener());
        try (ClusterLock ignored = lock(node.name())) {
            try {
                run.step("check", () -> checkFree(node, standby), null);
                run.step("create slot", () -> createSlot(node), () -> dropSlot(node));
                run.stepUndoingPartial("base backup", () -> {
                    standby.createDirectory(standby.dataDirectory());
                    if (BaseBackup.hasPgBasebackup(standby)) {
                        standby.executor().run(BaseBackup.pgBasebackup(standby, spec.primaryHost(),
                                primary.port().value(), spec.replicationUser(), spec.replicationPassword(),
                                node.slotName()));
                    } else if (host.equals(spec.primaryHost())) {
                        BaseBackup.lowLevelCopy(primary, standby);
                    } else {
                        throw new ReplicationException(PolarException.Reason.OTHER, null, node.name() + " - pg_basebackup is not installed in "
                                + standby.installation().binDir() + ", and the low-level copy only works on the "
                                + "primary's host " + spec.primaryHost() + ", not " + host);
                    }
                }, standby::deleteDataDirectory);
                run.step("configure", () -> {
                    standby.writeFile("postgresql.conf", standbyConfig(node).mergeInto(standby.readFile("postgresql.conf")));
                    standby.writeFile("polarscale.pgpass", pgpassLine(spec.primaryHost(), primary.port().value()),
                            spec.replicationPassword());
                    standby.writeFile("standby.signal", "");
                }, null);
                run.stepUndoingPartial("start", standby::start, () -> standby.stop(PostgresNode.StopMode.IMMEDIATE));
                Duration lag = verifyFollower(run, standby, node);
                run.step("register", () -> {
                    registry().add(new Registry.Entry(node.name(), NodeRole.STANDBY, host, node.port().value(),
                            node.dataDirectory().toString(), OptionalInt.empty(), standby.osUser()));
                    registry().clearPending(node.name());
                }, () -> registry().remove(node.name()));
                run.commit();
                return run.report(lag);
            } catch (RuntimeException e) {
                throw failedAdd(run, node, e);
            }
        }
    }

    // ------------------------------------------------------------------ removal

    /**
     * Removes a node: stop it, wait until its slot is inactive, drop the slot, forget the node,
     * and optionally delete its data directory. Safe to call again after a failure. A slot
     * without a registered node (left by a crashed add) is dropped too.
     *
     * @throws IllegalArgumentException no such node, or it is the primary
     */
    public OperationReport removeNode(String name, RemoveOptions options) {
        java.util.Objects.requireNonNull(options, "options");
        SlotName slot = SlotName.of(java.util.Objects.requireNonNull(name, "name"));
        if (name.equals(spec.primaryName())) {
            throw new IllegalArgumentException("cannot remove the primary '" + name + "'");
        }
        freshConnections();
        StepRunner run = new StepRunner(name, "removeNode", spec.listener());
        try (ClusterLock ignored = lock(name)) {
            Optional<Registry.Entry> entry = registry().get(name);
            if (entry.isEmpty() && slots().get(slot).isEmpty()) {
                throw new IllegalArgumentException("no node named '" + name + "' in the cluster");
            }
            if (entry.isPresent()) {
                PostgresNode node = nodeOf(entry.get());
                run.step("stop", node::stop, null);
                run.step("await slot inactive", () -> slots().awaitInactive(slot, options.slotInactiveWait()), null);
                run.step("drop slot", () -> slots().drop(slot, ReplicationSlotManager.DropOptions.refuseActive()), null);
                run.step("unregister", () -> registry().remove(name), null);
                if (options.deleteData()) {
                    run.step("delete data", node::deleteDataDirectory, null);
                }
            } else {
                run.step("drop orphan slot", () -> {
                    registry().ensureSchema();
                    slots().drop(slot, ReplicationSlotManager.DropOptions.waitUntilInactive(options.slotInactiveWait()));
                    registry().clearPending(name);
                }, null);
            }
            run.commit();
            return run.report(Duration.ZERO);
        }
    }

    // ------------------------------------------------------------------ status

    /** Every registered node with reachability, recovery state, slot state and replay lag. */
    public ClusterStatus status() {
        freshConnections();
        Map<String, Boolean> slotActive = new HashMap<>();
        for (SlotInfo s : slots().list()) {
            slotActive.put(s.name().value(), s.active());
        }
        Map<String, Object[]> repl = new HashMap<>();
        try (Connection c = pool().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT application_name, state, "
                     + "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
                     + "extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication")) {
            while (rs.next()) {
                long bytes = rs.getLong(3);
                Long b = rs.wasNull() ? null : bytes;
                double secs = rs.getDouble(4);
                Duration lag = rs.wasNull() ? null : Duration.ofNanos((long) (secs * 1e9));
                repl.put(rs.getString(1), new Object[]{rs.getString(2), b, lag});
            }
        } catch (SQLException e) {
            throw new ReplicationException(PolarException.Reason.SQL_ERROR, null, null, spec.primaryName() + " - cannot read pg_stat_replication: "
                    + e.getMessage(), e);
        }
        List<NodeStatus> out = new ArrayList<>();
        for (Registry.Entry e : registry().list()) {
            PostgresNode n = nodeOf(e);
            Optional<Boolean> inRecovery = Optional.empty();
            Optional<String> error = Optional.empty();
            try (Connection c = n.connect(Duration.ofSeconds(2)); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                inRecovery = Optional.of(rs.getBoolean(1));
            } catch (SQLException ex) {
                error = Optional.of(ex.getMessage());
            }
            Object[] r = repl.get(e.name());
            boolean primary = e.role() == NodeRole.PRIMARY;
            out.add(new NodeStatus(e.name(), e.role(), e.host(), e.port(), inRecovery.isPresent(), inRecovery,
                    primary ? Optional.empty() : Optional.of(slotActive.getOrDefault(e.name(), false)),
                    r == null ? Optional.empty() : Optional.ofNullable((String) r[0]),
                    r == null || r[1] == null ? OptionalLong.empty() : OptionalLong.of((Long) r[1]),
                    r == null ? Optional.empty() : Optional.ofNullable((Duration) r[2]), error));
        }
        return new ClusterStatus(out);
    }

    /** Physical replication slots on the primary. */
    public ReplicationSlotManager slots() {
        return new ReplicationSlotManager(spec.primaryName(), pool());
    }

    /** The primary as a {@link PostgresNode}. */
    public PostgresNode primaryNode() {
        return PostgresNode.builder().name(spec.primaryName()).installation(installation())
                .executor(spec.executor(spec.primaryHost())).dataDirectory(spec.primaryDataDirectory())
                .port(spec.primaryPort()).jdbcHost(spec.primaryHost()).password(spec.superuserPassword())
                .startTimeout(spec.verifyTimeout())
                .osUserOrSelf(osUser(spec.primaryHost())).build();
    }

    /** A registered node as a {@link PostgresNode}, to connect to it or stop it. */
    public PostgresNode node(String name) {
        return registry().get(name).map(this::nodeOf)
                .orElseThrow(() -> new IllegalArgumentException("no node named '" + name + "' in the cluster"));
    }

    @Override
    public void close() {
        closePool();
    }

    // ------------------------------------------------------------------ internals

    private Duration verifyFollower(StepRunner run, PostgresNode node, NodeSpec spec) {
        run.step("verify recovery", () -> {
            try (Connection c = node.connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    node.stop(PostgresNode.StopMode.IMMEDIATE);
                    throw new ReplicationException(PolarException.Reason.OTHER, null, spec.name() + " - came up READ-WRITE (pg_is_in_recovery() = false);"
                            + " stopped it at once: a second writer would corrupt the cluster");
                }
            } catch (SQLException e) {
                throw new ReplicationException(PolarException.Reason.SQL_ERROR, null, null, spec.name() + " - cannot check recovery: " + e.getMessage(), e);
            }
        }, null);
        run.step("verify streaming", () -> {
            slots().awaitActive(spec.slotName(), this.spec.verifyTimeout());
            awaitStreaming(spec.name());
        }, null);
        return run.call("verify canary", () -> canary(node, spec.name()), null);
    }

    private void awaitStreaming(String name) {
        long deadline = System.nanoTime() + spec.verifyTimeout().toNanos();
        String state = null;
        while (true) {
            try (Connection c = pool().getConnection();
                 PreparedStatement ps = c.prepareStatement(
                         "SELECT state FROM pg_stat_replication WHERE application_name = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    state = rs.next() ? rs.getString(1) : null;
                }
            } catch (SQLException e) {
                throw new ReplicationException(PolarException.Reason.SQL_ERROR, null, null, name + " - cannot read pg_stat_replication: " + e.getMessage(), e);
            }
            if ("streaming".equals(state)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new ReplicationException(PolarException.Reason.OTHER, null, name + " - not streaming after " + spec.verifyTimeout().toMillis()
                        + " ms; pg_stat_replication.state = " + state);
            }
            sleep(20);
        }
    }

    private Duration canary(PostgresNode node, String name) {
        String token = UUID.randomUUID().toString();
        registry().writeCanary(name, token);
        long committed = System.nanoTime();
        long deadline = committed + spec.verifyTimeout().toNanos();
        try (Connection c = node.connect();
             PreparedStatement ps = c.prepareStatement("SELECT token FROM polarscale.canary WHERE node = ?")) {
            ps.setString(1, name);
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && token.equals(rs.getString(1))) {
                        Duration lag = Duration.ofNanos(System.nanoTime() - committed);
                        LOG.info("{} - canary row visible {} µs after commit", name, lag.toNanos() / 1000);
                        return lag;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new ReplicationException(PolarException.Reason.OTHER, null, name + " - a row committed on the primary was not visible after "
                            + spec.verifyTimeout().toMillis() + " ms: the node serves stale data");
                }
                sleep(1);
            }
        } catch (SQLException e) {
            throw new ReplicationException(PolarException.Reason.SQL_ERROR, null, null, name + " - cannot read the canary row: " + e.getMessage(), e);
        }
    }

    private void checkFree(NodeSpec node, PostgresNode follower) {
        String host = hostOf(node);
        requirePrimaryWritable();
        registry().ensureSchema();
        for (Registry.Entry e : registry().list()) {
            if (e.name().equals(node.name())) {
                throw new IllegalArgumentException("a node named '" + node.name() + "' already exists (" + e.role()
                        + " on " + e.host() + ":" + e.port() + ")");
            }
            if (e.host().equals(host) && e.port() == node.port().value()) {
                throw new IllegalArgumentException(node.name() + " - port " + node.port() + " on " + host
                        + " is already used by node '" + e.name() + "'");
            }
            if (e.host().equals(host) && e.dataDirectory().equals(node.dataDirectory().toString())) {
                throw new IllegalArgumentException(node.name() + " - data directory " + node.dataDirectory()
                        + " on " + host + " belongs to node '" + e.name() + "'");
            }
            if (node.hostId().isPresent() && e.hostId().isPresent()
                    && e.hostId().getAsInt() == node.hostId().get().value()) {
                throw new IllegalArgumentException(node.name() + " - polar_hostid " + node.hostId().get()
                        + " is already used by node '" + e.name() + "'");
            }
        }
        reclaimInterruptedAdd(node);
        if (slots().get(node.slotName()).isPresent()) {
            throw new IllegalArgumentException(node.name() + " - replication slot '" + node.slotName()
                    + "' already exists on the primary but no node owns it (left by a crashed add?): "
                    + "removeNode(\"" + node.name() + "\", ...) drops it");
        }
        requirePortFree(node.name(), host, node.port().value());
        if (follower.status() != NodeState.NO_DATA_DIRECTORY || follower.fileExists("PG_VERSION")) {
            throw new IllegalArgumentException(node.name() + " - data directory " + node.dataDirectory() + " on "
                    + host + " already holds a cluster");
        }
        Command empty = Command.of("sh", "-c", "[ ! -e \"$1\" ] || [ -z \"$(ls -A \"$1\")\" ]", "sh",
                node.dataDirectory().toString()).withTimeout(Duration.ofSeconds(30));
        if (!follower.executor().execute(follower.osUser().map(empty::asUser).orElse(empty)).succeeded()) {
            throw new IllegalArgumentException(node.name() + " - data directory " + node.dataDirectory() + " on "
                    + host + " exists and is not empty");
        }
    }

    /**
     * An add of this node that was cut off (the primary died, the JVM was killed) before it could
     * drop its slot left a row in {@code polarscale.pending}. Under the cluster lock, with no node
     * of that name registered, an inactive slot named in that row is the add's own: drop it.
     * A slot without the row is someone else's and is still refused by the caller.
     */
    private void reclaimInterruptedAdd(NodeSpec node) {
        Optional<String> pending = registry().pendingSlot(node.name());
        if (pending.isEmpty()) {
            return;
        }
        if (pending.get().equals(node.slotName().value())) {
            Optional<SlotInfo> slot = slots().get(node.slotName());
            if (slot.isPresent() && slot.get().active()) {
                throw new IllegalArgumentException(node.name() + " - replication slot '" + node.slotName()
                        + "' of an interrupted add is still in use by PID " + slot.get().activePid()
                        + ": is a server from that add still running?");
            }
            if (slot.isPresent()) {
                LOG.warn("{} - dropping slot {} left by an interrupted add of this node", node.name(), node.slotName());
                slots().drop(node.slotName(), ReplicationSlotManager.DropOptions.refuseActive());
            }
        }
        registry().clearPending(node.name());
    }

    private void createSlot(NodeSpec node) {
        registry().markPending(node.name(), node.slotName().value());
        slots().create(node.slotName());
    }

    private void dropSlot(NodeSpec node) {
        slots().drop(node.slotName(), ReplicationSlotManager.DropOptions.terminateWalSender(Duration.ofSeconds(10)));
        registry().clearPending(node.name());
    }

    private void requirePrimaryWritable() {
        try (Connection c = pool().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            if (rs.getBoolean(1)) {
                throw new ReplicationException(PolarException.Reason.OTHER, null, spec.primaryName() + " - is in recovery: it is not a primary");
            }
        } catch (SQLException e) {
            throw new ReplicationException(PolarException.Reason.SQL_ERROR, null, null, spec.primaryName() + " - primary " + spec.primaryHost() + ":"
                    + spec.primaryPort() + " is not reachable: " + e.getMessage(), e);
        }
    }

    private static void requirePortFree(String node, String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
        } catch (IOException free) {
            return;
        }
        throw new IllegalArgumentException(node + " - port " + port + " on " + host + " is already in use");
    }

    private NodeConfig primaryConfig() {
        if (spec.sharedStorage().isPresent()) {
            return NodeConfig.primary(spec.primaryPort(), HostId.of(PRIMARY_HOST_ID),
                            spec.sharedStorage().get().configuration())
                    .listenAddresses(listenAddress(spec.primaryHost()))
                    .maxWalSenders(MAX_SENDERS).maxReplicationSlots(MAX_SENDERS).build();
        }
        return NodeConfig.builder().role(NodeRole.PRIMARY).port(spec.primaryPort())
                .listenAddresses(listenAddress(spec.primaryHost()))
                .walLevel(WalLevel.REPLICA).maxWalSenders(MAX_SENDERS).maxReplicationSlots(MAX_SENDERS)
                .hotStandby(true).build();
    }

    private NodeConfig standbyConfig(NodeSpec node) {
        ConnInfo conn = primaryConnInfo(node);
        // a hot standby needs at least the primary's max_wal_senders / max_replication_slots
        return NodeConfig.standby(node.port(), conn, node.slotName())
                .maxWalSenders(MAX_SENDERS).maxReplicationSlots(MAX_SENDERS)
                .listenAddresses(listenAddress(hostOf(node))).build();
    }

    private NodeConfig replicaConfig(NodeSpec node, HostId hostId, SharedStorage storage) {
        return NodeConfig.replica(node.port(), hostId, storage.configuration(), primaryConnInfo(node),
                        node.slotName())
                .maxWalSenders(MAX_SENDERS).maxReplicationSlots(MAX_SENDERS)
                .listenAddresses(listenAddress(hostOf(node))).build();
    }

    private ConnInfo primaryConnInfo(NodeSpec node) {
        return ConnInfo.builder().host(spec.primaryHost()).port(spec.primaryPort())
                .user(spec.replicationUser()).dbname("postgres").applicationName(node.name())
                .option("passfile", node.dataDirectory().resolve("polarscale.pgpass").toString())
                .build();
    }

    private void requirePolarDb(PostgresNode node) {
        if (!node.installation().isPolarDb()) {
            throw new IllegalStateException(node.name() + " - a PolarDB cluster needs PolarDB binaries, but "
                    + node.installation().binDir() + " has no polar-initdb.sh");
        }
    }

    private HostId chooseHostId(NodeSpec node) {
        if (node.hostId().isPresent()) {
            if (node.hostId().get().value() == PRIMARY_HOST_ID) {
                throw new IllegalArgumentException(node.name() + " - polar_hostid " + PRIMARY_HOST_ID
                        + " is the primary's");
            }
            return node.hostId().get();
        }
        java.util.Set<Integer> used = new java.util.HashSet<>();
        used.add(PRIMARY_HOST_ID);
        for (Registry.Entry e : registry().list()) {
            e.hostId().ifPresent(used::add);
        }
        for (int id = HostId.MIN; id <= HostId.MAX; id++) {
            if (!used.contains(id)) {
                return HostId.of(id);
            }
        }
        throw new ReplicationException(PolarException.Reason.OTHER, null, node.name() + " - all polar_hostid values 1..512 are taken");
    }

    private PolarInitdb polarInitdb(PostgresNode node) {
        return PolarInitdb.using(node.installation(), node.osUser().orElseGet(() -> OsUsers.whoami(node.executor())));
    }

    private ConfigTemplates templates(PostgresNode node) {
        java.nio.file.Path cache = spec.templateCache()
                .orElse(node.dataDirectory().getParent().resolve(".polarscale-templates"));
        return ConfigTemplates.forHost(node.executor(), node.installation(), cache,
                node.osUser().orElseGet(() -> OsUsers.whoami(node.executor())));
    }

    /** Undo of the primary's polar-initdb.sh: the shared directory was empty before it ran. */
    private void emptySharedStorage(PostgresNode primary, SharedStorage storage) {
        if (storage.configuration() instanceof PolarStorage.LocalFs local) {
            Command wipe = Command.of("find", local.directory().toString(), "-mindepth", "1", "-delete")
                    .withTimeout(Duration.ofMinutes(5));
            primary.executor().run(primary.osUser().map(wipe::asUser).orElse(wipe));
        } else {
            LOG.warn("{} - deploy failed after polar-initdb.sh: the PFS directory {} keeps what it wrote; "
                    + "empty it before deploying again", primary.name(), storage.initdbDirectory());
        }
    }

    private static String listenAddress(String host) {
        return host.equals("localhost") ? "localhost" : host;
    }

    private List<HbaRule> hbaRules() {
        List<HbaRule> rules = new ArrayList<>();
        for (String cidr : spec.replicationCidrs()) {
            rules.add(HbaRule.replication(spec.replicationUser(), cidr));
        }
        return rules;
    }

    private String pgpassLine(String host, int port) {
        return escapePgpass(host) + ":" + port + ":*:" + escapePgpass(spec.replicationUser()) + ":"
                + escapePgpass(spec.replicationPassword()) + "\n";
    }

    private static String escapePgpass(String s) {
        return s.replace("\\", "\\\\").replace(":", "\\:");
    }

    private void createReplicationRole(PostgresNode primary) {
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            // the role name is validated ([a-z][a-z0-9_]*) and quoted as an identifier
            String role = "\"" + spec.replicationUser() + "\"";
            s.execute("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + spec.replicationUser()
                    + "') THEN CREATE ROLE " + role + " WITH REPLICATION LOGIN; END IF; END$$");
            // the SCRAM verifier is computed here; the password itself never reaches the server
            c.unwrap(PGConnection.class).alterUserPassword(spec.replicationUser(),
                    spec.replicationPassword().toCharArray(), "scram-sha-256");
        } catch (SQLException e) {
            throw new ReplicationException(PolarException.Reason.SQL_ERROR, null, null, primary.name() + " - cannot create replication role "
                    + spec.replicationUser() + ": " + e.getMessage(), e);
        }
    }

    /** Undoes a failed add, or keeps what it made when the spec asks to (for debugging). */
    private RuntimeException failedAdd(StepRunner run, NodeSpec node, RuntimeException e) {
        if (node.keepOnFailure()) {
            LOG.warn("{} - add failed; keeping what was created for debugging (keepOnFailure)", node.name());
            run.commit();
            return e;
        }
        return rollback(run, e);
    }

    private PolarException rollback(StepRunner run, RuntimeException e) {
        List<Exception> failures = run.rollback();
        for (Exception f : failures) {
            e.addSuppressed(f);
        }
        if (e instanceof PolarException pe) {
            return pe;
        }
        if (e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
            throw e;
        }
        return new PolarException(e.getMessage(), e);
    }

    private ClusterLock lock(String node) {
        PostgresNode primary = primaryNode();
        return ClusterLock.acquire(node, primary::connect, spec.lockTimeout());
    }

    private Registry registry() {
        return new Registry(spec.primaryName(), pool());
    }

    private String hostOf(NodeSpec node) {
        String host = node.host().orElse(spec.primaryHost());
        spec.executor(host);
        return host;
    }

    private PostgresNode followerNode(NodeSpec node) {
        String host = hostOf(node);
        return PostgresNode.builder().name(node.name()).installation(installation()).executor(spec.executor(host))
                .dataDirectory(node.dataDirectory()).port(node.port()).jdbcHost(host)
                .password(spec.superuserPassword()).startTimeout(spec.verifyTimeout())
                .osUserOrSelf(osUser(host)).build();
    }

    private PostgresNode nodeOf(Registry.Entry e) {
        return PostgresNode.builder().name(e.name()).installation(installation()).executor(spec.executor(e.host()))
                .dataDirectory(java.nio.file.Path.of(e.dataDirectory())).port(e.port()).jdbcHost(e.host())
                .password(spec.superuserPassword()).startTimeout(spec.verifyTimeout())
                .osUserOrSelf(e.osUser().or(() -> osUser(e.host()))).build();
    }

    private Optional<String> osUser(String host) {
        if (spec.osUser().isPresent()) {
            return spec.osUser();
        }
        return osUsers.computeIfAbsent(host, h -> OsUsers.serverUser(spec.executor(h)));
    }

    private PgInstallation installation() {
        PgInstallation i = installation;
        if (i == null) {
            i = spec.installation().orElseGet(PgBinaries::locate);
            installation = i;
        }
        return i;
    }

    /**
     * Pooled connections may belong to a primary session that has since ended (a restart); each
     * public operation starts from fresh ones, which costs a few milliseconds per operation.
     */
    private void freshConnections() {
        HikariDataSource p = pool;
        if (p != null && !p.isClosed() && p.getHikariPoolMXBean() != null) {
            p.getHikariPoolMXBean().softEvictConnections();
        }
    }

    private synchronized HikariDataSource pool() {
        if (pool == null || pool.isClosed()) {
            PostgresNode primary = primaryNode();
            HikariConfig cfg = new HikariConfig();
            cfg.setPoolName("polarscale-" + spec.primaryName());
            cfg.setJdbcUrl(primary.jdbcUrl());
            cfg.setUsername(primary.superuser());
            cfg.setPassword(primary.password());
            cfg.setMaximumPoolSize(4);
            cfg.setMinimumIdle(0);
            cfg.setConnectionTimeout(5_000);
            cfg.setInitializationFailTimeout(-1);
            cfg.addDataSourceProperty("ApplicationName", "polarscale");
            cfg.addDataSourceProperty("connectTimeout", "5");
            pool = new HikariDataSource(cfg);
        }
        return pool;
    }

    private synchronized void closePool() {
        if (pool != null) {
            pool.close();
            pool = null;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PolarException("interrupted", e);
        }
    }
}
