package dev.polarscale.replication.internal;

import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.ReplicationException;
import dev.polarscale.replication.ReplicationSlotManager;
import dev.polarscale.replication.SlotInfo;
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
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * The steps a streaming standby and a PolarDB replica share, for one add of one node: lock,
 * recover, check, create slot, start, the three verifications, register. Holds what one add
 * learns on its way (the canary lag, a chosen host id).
 */
final class FollowerSteps {
    private static final Logger LOG = LoggerFactory.getLogger(FollowerSteps.class);

    private final ScalerContext ctx;
    private final ClusterSpec spec;
    private final NodeSpec node;
    private final PostgresNode follower;
    private final String host;
    final Operation.LockSlot lock = new Operation.LockSlot();
    private final Set<String> recovered = new HashSet<>();
    private volatile Duration canaryLag = Duration.ZERO;
    /** The primary's values of {@link Configs#AT_LEAST_PRIMARY}, read by the check. */
    private final java.util.Map<String, Integer> primarySettings = new java.util.concurrent.ConcurrentHashMap<>();

    FollowerSteps(ScalerContext ctx, NodeSpec node, PostgresNode follower) {
        this.ctx = ctx;
        this.spec = ctx.spec();
        this.node = node;
        this.follower = follower;
        this.host = ctx.hostOf(node);
    }

    String host() {
        return host;
    }

    PostgresNode follower() {
        return follower;
    }

    Duration canaryLag() {
        return canaryLag;
    }

    /** The primary's settings a follower must match at least (empty until the check ran). */
    java.util.Map<String, Integer> primarySettings() {
        return primarySettings;
    }

    Step lock() {
        return CommonSteps.lock(ctx, node.name(), lock);
    }

    Step recover() {
        return CommonSteps.recover(ctx, node.name(), lock, recovered);
    }

    /**
     * Nothing of the add exists yet and everything it needs is there: the primary is writable and
     * has a free walsender and slot, name, port, slot, directory and host id are free, the server
     * user and programs exist on the node's host. A node registered with exactly this spec that
     * streams is the result of an earlier run of the same add: the add succeeds at once.
     *
     * @param walSenders walsenders the add needs at once (a streamed base backup takes two)
     * @param extra      the role's own checks (e.g. PolarDB binaries), run last
     */
    Step check(NodeRole role, int walSenders, List<String> extraActions, Runnable extra) {
        HostFacts facts = ctx.facts(host);
        List<String> actions = new java.util.ArrayList<>(List.of(
                "SELECT pg_is_in_recovery(), max_wal_senders, walsenders, max_replication_slots, slots  "
                        + "-- the primary is writable, " + walSenders + " walsender(s) and 1 slot free",
                "SELECT ... FROM polarscale.nodes  -- name " + node.name() + ", port " + node.port()
                        + node.hostId().map(h -> ", polar_hostid " + h).orElse("") + " unused",
                "SELECT ... FROM pg_replication_slots WHERE slot_name = '" + node.slotName() + "'  -- absent",
                "connect " + host + ":" + node.port() + "  -- nothing listens",
                follower.serverCommand("pg_ctl", "status", "-D", follower.dataDirectory().toString()).toString()
                        + "  -- no cluster; the directory is absent or empty"));
        if (facts.serverUserToCreate()) {
            actions.add("useradd --system --no-create-home --shell /usr/sbin/nologin --user-group polarscale");
        }
        actions.addAll(extraActions);
        return Step.of("check", host, actions, () -> {
            requireFreeInRegistry(role);
            requirePrimaryCapacity(walSenders);
            readPrimarySettings();
            requireNoSlot();
            requirePortFree(node.name(), host, node.port().value());
            facts.ensureServerUser();
            CommonSteps.requireEmptyDirectory(follower, host);
            extra.run();
        });
    }

    private void requirePrimaryCapacity(int walSenders) {
        try (Connection c = ctx.primary().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery(), current_setting('max_wal_senders')::int, "
                     + "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender')::int, "
                     + "current_setting('max_replication_slots')::int, "
                     + "(SELECT count(*) FROM pg_replication_slots)::int")) {
            rs.next();
            if (rs.getBoolean(1)) {
                throw new ReplicationException(PolarException.Reason.NOT_A_PRIMARY, node.name(), spec.primaryHost(),
                        node.name() + " - " + spec.primaryName() + " at " + spec.primaryHost() + ":"
                                + spec.primaryPort() + " is in recovery: it is not a primary", null);
            }
            int maxSenders = rs.getInt(2);
            int senders = rs.getInt(3);
            int maxSlots = rs.getInt(4);
            int slots = rs.getInt(5);
            if (slots + 1 > maxSlots || senders + walSenders > maxSenders) {
                throw new ReplicationException(PolarException.Reason.NO_FREE_SLOT, node.name(), spec.primaryHost(),
                        node.name() + " - the primary has no room for another follower: " + slots + " of "
                                + maxSlots + " replication slots and " + senders + " of " + maxSenders
                                + " walsenders in use, this add needs 1 slot and " + walSenders + " walsender(s); "
                                + "remove a node or raise max_wal_senders / max_replication_slots "
                                + "(ClusterSpec.Builder.maxWalSenders at deploy)", null);
            }
        } catch (SQLException e) {
            throw ReplicationException.of(node.name(), "check the primary " + spec.primaryHost() + ":"
                    + spec.primaryPort(), e);
        }
    }

    private void readPrimarySettings() {
        try (Connection c = ctx.primary().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT name, setting::int FROM pg_settings WHERE name = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", Configs.AT_LEAST_PRIMARY.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    primarySettings.put(rs.getString(1), rs.getInt(2));
                }
            }
        } catch (SQLException e) {
            throw ReplicationException.of(node.name(), "read the primary's settings", e);
        }
    }

    private void requireFreeInRegistry(NodeRole role) {
        for (Registry.Entry e : ctx.registry().list()) {
            if (e.name().equals(node.name())) {
                if (sameNode(e, role) && streams()) {
                    throw new OperationRunner.AlreadyDone(node.name() + " is already a registered " + role.name()
                            .toLowerCase(java.util.Locale.ROOT) + " on " + host + ":" + node.port() + " and streams");
                }
                throw taken(PolarException.Reason.NODE_EXISTS, "a node named '" + node.name() + "' already exists ("
                        + e.role() + " on " + e.host() + ":" + e.port() + ")");
            }
            if (e.role() != NodeRole.PRIMARY && node.slotName().equals(SlotName.forNode(e.name()))) {
                throw taken(PolarException.Reason.NODE_EXISTS, node.name() + " - its slot " + node.slotName()
                        + " is node '" + e.name() + "''s slot: node names may not differ only in '-' and '_'");
            }
            if (e.host().equals(host) && e.port() == node.port().value()) {
                throw taken(PolarException.Reason.PORT_IN_USE, node.name() + " - port " + node.port() + " on " + host
                        + " is already used by node '" + e.name() + "'");
            }
            if (e.host().equals(host) && e.dataDirectory().equals(node.dataDirectory().toString())) {
                throw taken(PolarException.Reason.DATA_DIRECTORY_EXISTS, node.name() + " - data directory "
                        + node.dataDirectory() + " on " + host + " belongs to node '" + e.name() + "'");
            }
            if (node.hostId().isPresent() && e.hostId().isPresent()
                    && e.hostId().getAsInt() == node.hostId().get().value()) {
                throw taken(PolarException.Reason.HOST_ID_TAKEN, node.name() + " - polar_hostid "
                        + node.hostId().get() + " is already used by node '" + e.name() + "'");
            }
        }
    }

    /** The registered node is this very add's node: the same role, host, port, directory (and host id). */
    private boolean sameNode(Registry.Entry e, NodeRole role) {
        return e.role() == role && e.host().equals(host) && e.port() == node.port().value()
                && e.dataDirectory().equals(node.dataDirectory().toString())
                && node.hostId().map(h -> e.hostId().equals(OptionalInt.of(h.value()))).orElse(true);
    }

    /** Its slot is active and the primary shows it streaming. */
    private boolean streams() {
        try (Connection c = ctx.primary().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT EXISTS (SELECT FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid "
                        + "WHERE s.slot_name = ? AND r.state = 'streaming')")) {
            ps.setString(1, node.slotName().value());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        } catch (SQLException e) {
            throw ReplicationException.of(node.name(), "check whether it streams", e);
        }
    }

    private void requireNoSlot() {
        Optional<SlotInfo> slot = ctx.slots().get(node.slotName());
        if (slot.isPresent()) {
            throw taken(slot.get().active() ? PolarException.Reason.SLOT_ACTIVE : PolarException.Reason.SLOT_EXISTS,
                    node.name() + " - replication slot '" + node.slotName() + "' already exists on the primary"
                            + slot.get().activePid().stream().mapToObj(p -> " and is in use by PID " + p)
                            .collect(Collectors.joining())
                            + " but belongs to no node of this cluster: removeNode(\"" + node.name()
                            + "\", ...) drops it");
        }
    }

    static void requirePortFree(String node, String host, int port) {
        if (portAnswers(host, port)) {
            throw new ReplicationException(PolarException.Reason.PORT_IN_USE, node, host,
                    node + " - port " + port + " on " + host + " is already in use", null);
        }
    }

    /** Whether something answers a TCP connect on that port within 500 ms (what "in use" means here). */
    static boolean portAnswers(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException free) {
            return false;
        }
    }

    private ReplicationException taken(PolarException.Reason reason, String message) {
        return new ReplicationException(reason, node.name(), host, message, null);
    }

    /** The slot, with reserved WAL, before anything can start streaming from it. */
    Step createSlot() {
        return Step.of("create slot", spec.primaryHost(), List.of("SELECT pg_create_physical_replication_slot('"
                        + node.slotName() + "', true)"), () -> ctx.slots().create(node.slotName()))
                .undoneBy(this::dropSlot);
    }

    /** Drops the add's slot, ending a walsender still on it. */
    void dropSlot() {
        ctx.slots().drop(node.slotName(), ReplicationSlotManager.DropOptions.terminateWalSender(
                Duration.ofSeconds(10)));
    }

    /**
     * The primary's {@code pg_hba.conf} admits replication from the node's host (a rule appears
     * with a host's first node); undone by recomputing the rules without it.
     */
    Step allowReplication() {
        List<dev.polarscale.core.HbaRule> rules = PrimaryHba.rules(ctx, List.of(spec.primaryHost(), host));
        return Step.of("allow replication", spec.primaryHost(), List.of("pg_hba.conf managed block on "
                        + spec.primaryName() + " (written and pg_ctl reload only if it changes): "
                        + rules.stream().map(dev.polarscale.core.HbaRule::render).toList()),
                () -> PrimaryHba.apply(ctx, PrimaryHba.nodeHosts(ctx, List.of(host)), true))
                .undoneBy(() -> PrimaryHba.apply(ctx, PrimaryHba.nodeHosts(ctx, List.of()), true));
    }

    Step start() {
        return Step.of("start", host, List.of(follower.serverCommand("pg_ctl", "start", "-D",
                        follower.dataDirectory().toString(), "-l", follower.startupLog().toString(), "-o",
                        "-p " + node.port() + " -k <data directory>", "-w").toString(), CommonSteps.CLEAN_ENV_NOTE), follower::start)
                .undoneEvenIfHalfDone(() -> follower.stop(PostgresNode.StopMode.IMMEDIATE));
    }

    /** A follower that came up writable is a second writer: it is stopped at once. */
    Step verifyRecovery() {
        return Step.of("verify recovery", host, List.of("SELECT pg_is_in_recovery()  -- on " + node.name()
                + ", must be true"), () -> {
                    try (Connection c = follower.connect(); Statement s = c.createStatement();
                         ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                        rs.next();
                        if (!rs.getBoolean(1)) {
                            follower.stop(PostgresNode.StopMode.IMMEDIATE);
                            throw new ReplicationException(PolarException.Reason.WRITABLE_FOLLOWER, node.name(), host,
                                    node.name() + " - came up READ-WRITE (pg_is_in_recovery() = false); stopped it "
                                            + "at once: a second writer would corrupt the cluster", null);
                        }
                    } catch (SQLException e) {
                        throw ReplicationException.of(node.name(), "check recovery", e);
                    }
                });
    }

    /**
     * The slot turns active and the primary shows the node {@code streaming}. The follower's log
     * is read every half second: a FATAL that retrying cannot cure (authentication, a missing
     * slot, another cluster's data) ends the wait at once, with the log lines.
     */
    Step verifyStreaming() {
        return Step.of("verify streaming", host, List.of(
                "SELECT active FROM pg_replication_slots WHERE slot_name = '" + node.slotName() + "'",
                "SELECT state FROM pg_stat_replication WHERE application_name = '" + node.name() + "'",
                "the follower's log, every 500 ms: a FATAL on authentication or identity ends the wait"),
                this::awaitStreaming);
    }

    /** FATAL lines a walreceiver repeats for ever: waiting longer changes nothing. */
    private static final java.util.regex.Pattern HOPELESS = java.util.regex.Pattern.compile(
            "FATAL: .*(password authentication failed|no pg_hba\\.conf entry|role \".*\" does not exist"
                    + "|is not permitted to log in|must be superuser or replication role"
                    + "|replication slot \".*\" does not exist|database system identifier differs"
                    + "|insufficient parameter settings)");

    private void awaitStreaming() {
        long start = System.nanoTime();
        long deadline = start + spec.verifyTimeout().toNanos();
        long nextLog = start + 300_000_000L;
        String state = "no slot";
        try (Connection c = ctx.primary().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT s.active, r.state FROM pg_replication_slots s LEFT JOIN pg_stat_replication r "
                        + "ON r.pid = s.active_pid WHERE s.slot_name = ?")) {
            ps.setString(1, node.slotName().value());
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        state = rs.getBoolean(1) ? "slot active, " + rs.getString(2) : "slot inactive";
                        if ("streaming".equals(rs.getString(2))) {
                            return;
                        }
                    }
                }
                long now = System.nanoTime();
                if (now > nextLog) {
                    failOnHopelessLog(state);
                    nextLog = now + 500_000_000L;
                }
                if (now > deadline) {
                    throw withFollowerLog(new ReplicationException(PolarException.Reason.NOT_STREAMING, node.name(),
                            host, node.name() + " - not streaming after " + spec.verifyTimeout().toMillis()
                                    + " ms (" + state + ")", null));
                }
                sleep(10);
            }
        } catch (SQLException e) {
            throw ReplicationException.of(node.name(), "read pg_replication_slots", e);
        }
    }

    private void failOnHopelessLog(String state) {
        List<String> hopeless = follower.logTail(40).lines().filter(l -> HOPELESS.matcher(l).find()).toList();
        if (hopeless.isEmpty()) {
            return;
        }
        String last = hopeless.get(hopeless.size() - 1);
        PolarException.Reason reason = last.contains("authentication") || last.contains("pg_hba")
                || last.contains("does not exist\"") && last.contains("role") || last.contains("permitted")
                || last.contains("replication role") ? PolarException.Reason.AUTH_FAILED
                : PolarException.Reason.NOT_STREAMING;
        throw new ReplicationException(reason, node.name(), host, node.name() + " - does not stream (" + state
                + ") and its log says why; waiting longer would not help:\n--- follower log (FATAL) ---\n"
                + String.join("\n", hopeless.subList(Math.max(0, hopeless.size() - 5), hopeless.size())), null);
    }

    /** A row committed on the primary must be read on the node within the deadline. */
    Step verifyCanary() {
        return Step.of("verify canary", host, List.of("INSERT INTO polarscale.canary ...  -- then read back on "
                + node.name()), () -> canaryLag = canary());
    }

    private Duration canary() {
        String token = UUID.randomUUID().toString();
        ctx.registry().writeCanary(node.name(), token);
        long committed = System.nanoTime();
        long deadline = committed + spec.verifyTimeout().toNanos();
        try (Connection c = follower.connect();
             PreparedStatement ps = c.prepareStatement("SELECT token FROM polarscale.canary WHERE node = ?")) {
            ps.setString(1, node.name());
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && token.equals(rs.getString(1))) {
                        Duration lag = Duration.ofNanos(System.nanoTime() - committed);
                        LOG.info("{} - canary row visible {} µs after commit", node.name(), lag.toNanos() / 1000);
                        return lag;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw withFollowerLog(new ReplicationException(PolarException.Reason.STALE_DATA, node.name(), host,
                            node.name() + " - a row committed on the primary was not visible after "
                                    + spec.verifyTimeout().toMillis() + " ms: the node serves stale data", null));
                }
                sleep(1);
            }
        } catch (SQLException e) {
            throw ReplicationException.of(node.name(), "read the canary row", e);
        }
    }

    /** {@code e}, its message extended by the follower's FATAL and ERROR log lines, if any. */
    private ReplicationException withFollowerLog(ReplicationException e) {
        String errors = follower.logTail(40).lines().filter(l -> l.contains("FATAL") || l.contains("ERROR"))
                .collect(Collectors.joining("\n"));
        if (errors.isEmpty()) {
            return e;
        }
        return new ReplicationException(e.reason(), node.name(), host, e.getMessage()
                + "\n--- follower log (FATAL/ERROR) ---\n" + errors, e);
    }

    /** The node joins the membership on the primary: the add's commit point. */
    Step register(NodeRole role, java.util.function.Supplier<OptionalInt> hostId) {
        return Step.of("register", spec.primaryHost(), List.of("INSERT INTO polarscale.nodes ...  -- " + node.name()
                        + " " + role.name().toLowerCase(java.util.Locale.ROOT) + " on " + host + ":" + node.port()),
                () -> ctx.registry().add(new Registry.Entry(node.name(), role, host, node.port().value(),
                        node.dataDirectory().toString(), hostId.get(), follower.osUser())))
                .undoneBy(() -> ctx.registry().remove(node.name()));
    }

    /** What the journal records of this add. */
    Journal.Entry journalEntry(Operation.Kind kind, OptionalInt hostId) {
        return Journal.Entry.of(kind, node.name(), host, node.port().value(), node.dataDirectory().toString(),
                hostId, false, false, follower.osUser());
    }

    /** Sleeps; an interrupt is kept and thrown as {@link PolarException.Reason#INTERRUPTED}. */
    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PolarException(PolarException.Reason.INTERRUPTED, "interrupted", e);
        }
    }
}
