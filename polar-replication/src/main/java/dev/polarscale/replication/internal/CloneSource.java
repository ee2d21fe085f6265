package dev.polarscale.replication.internal;

import dev.polarscale.core.HbaRule;
import dev.polarscale.core.Lsn;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.ReplicationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The standby a new standby's base backup is copied from ({@link NodeSpec#cloneFrom()}), and the
 * steps a copy from it needs beyond a copy from the primary.
 *
 * <p>The new standby's slot is created on the PRIMARY first, with reserved WAL: PostgreSQL sets a
 * physical slot's {@code restart_lsn} to the redo point of the primary's latest checkpoint (S).
 * A base backup taken on a standby starts at that standby's latest restartpoint, which can only
 * be at a checkpoint record it has replayed; if the source lagged behind the checkpoint whose redo
 * point is S, the copy would start earlier and need WAL that no slot of the new node keeps. So,
 * before copying, the source must have replayed that checkpoint record (step "wait for source");
 * its restartpoint (what {@code --checkpoint=fast} asks for) then starts the copy at or after S,
 * and the end of the copy, where the new standby starts streaming from the primary, is past S
 * too. The copy's {@code backup_label} is checked against S afterwards.
 *
 * <p>{@code pg_basebackup} runs against the standby without {@code -S}: the new slot lives on the
 * primary, and on the standby {@code pg_basebackup} keeps the WAL it streams with a temporary
 * slot of its own (PostgreSQL 10 and later), dropped when it disconnects. It needs two walsenders
 * and one slot free on the source, and a replication rule for the new node's host in the
 * source's {@code pg_hba.conf}, which came from an earlier base backup and may lack it (step
 * "allow clone" adds it to the source's managed block, where missing, and reloads it).
 */
final class CloneSource {
    private static final Logger LOG = LoggerFactory.getLogger(CloneSource.class);

    private final ScalerContext ctx;
    private final ClusterSpec spec;
    private final NodeSpec node;
    private final String newHost;
    private final Registry.Entry entry;
    private final PostgresNode source;
    /** The oldest WAL the new slot keeps, read by "wait for source". */
    private volatile Lsn slotStart;
    /** pg_hba.conf of the source before and after "allow clone" changed it, for the undo. */
    private volatile String hbaBefore;
    private volatile String hbaAfter;

    private CloneSource(ScalerContext ctx, NodeSpec node, String newHost, Registry.Entry entry) {
        this.ctx = ctx;
        this.spec = ctx.spec();
        this.node = node;
        this.newHost = newHost;
        this.entry = entry;
        this.source = ctx.node(entry);
    }

    /**
     * The registered standby {@code node} clones from, read from the membership.
     *
     * @throws IllegalArgumentException the source is the primary or not a streaming standby
     * @throws ReplicationException     {@link PolarException.Reason#NODE_NOT_FOUND}: no such node
     */
    static CloneSource resolve(ScalerContext ctx, NodeSpec node, String newHost) {
        String name = node.cloneFrom().orElseThrow();
        if (name.equals(ctx.spec().primaryName())) {
            throw new IllegalArgumentException(node.name() + " - cloneFrom names the primary '" + name
                    + "', where a standby is copied from anyway: leave cloneFrom out");
        }
        Registry.Entry e = ctx.registry().get(name).orElseThrow(() -> new ReplicationException(
                PolarException.Reason.NODE_NOT_FOUND, node.name(), newHost, node.name() + " - cannot clone from '"
                + name + "': no node of that name in the cluster", null));
        if (e.role() != NodeRole.STANDBY) {
            throw new IllegalArgumentException(node.name() + " - cloneFrom '" + name + "' is a "
                    + e.role().name().toLowerCase(java.util.Locale.ROOT)
                    + ": only a streaming standby has a copy of its own to clone");
        }
        return new CloneSource(ctx, node, newHost, e);
    }

    String name() {
        return entry.name();
    }

    String host() {
        return entry.host();
    }

    int port() {
        return entry.port();
    }

    /** What the check step adds for a clone, as a plan shows it. */
    List<String> plannedChecks() {
        return List.of("SELECT ... FROM polarscale.nodes  -- " + name() + " is still a registered standby on "
                        + host() + ":" + port(),
                "SELECT pg_is_in_recovery(), max_wal_senders, walsenders, max_replication_slots, slots  -- on "
                        + name() + ": in recovery, 2 walsender(s) and 1 slot free for pg_basebackup",
                "SELECT ... FROM pg_replication_slots JOIN pg_stat_replication  -- on the primary: " + name()
                        + " streams; full_page_writes is on",
                "test -x " + ctx.facts(newHost).installation().tool("pg_basebackup") + "  -- on " + newHost);
    }

    /**
     * Under the lock, before any change: the source is still registered where it was, answers, is
     * in recovery, has room for {@code pg_basebackup}, streams from the primary; the primary writes
     * full pages; the new node's host has {@code pg_basebackup}.
     */
    void check() {
        Optional<Registry.Entry> now = ctx.registry().get(name());
        if (now.isEmpty() || !now.get().host().equals(host()) || now.get().port() != port()) {
            throw unfit(PolarException.Reason.NODE_NOT_FOUND, "is no longer registered on " + host() + ":" + port(),
                    null);
        }
        try (Connection c = source.connect(Duration.ofSeconds(5)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery(), current_setting('max_wal_senders')::int, "
                     + "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender')::int, "
                     + "current_setting('max_replication_slots')::int, "
                     + "(SELECT count(*) FROM pg_replication_slots)::int")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                throw unfit(PolarException.Reason.NOT_STREAMING, "is not in recovery (promoted?)", null);
            }
            int freeSenders = rs.getInt(2) - rs.getInt(3);
            int freeSlots = rs.getInt(4) - rs.getInt(5);
            if (freeSenders < 2 || freeSlots < 1) {
                throw unfit(PolarException.Reason.NO_FREE_SLOT, "has " + freeSenders + " walsender(s) and "
                        + freeSlots + " replication slot(s) free; pg_basebackup needs 2 and 1", null);
            }
        } catch (SQLException e) {
            throw unfit(PolarException.reasonOf(e), "does not answer: " + e.getMessage(), e);
        }
        try (Connection c = ctx.primary().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT EXISTS (SELECT FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid "
                        + "WHERE s.slot_name = ? AND r.state = 'streaming'), current_setting('full_page_writes')")) {
            ps.setString(1, SlotName.forNode(name()).value());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    throw unfit(PolarException.Reason.NOT_STREAMING, "does not stream from the primary", null);
                }
                if (!"on".equals(rs.getString(2))) {
                    throw unfit(PolarException.Reason.OTHER, "cannot serve a base backup: the primary runs with "
                            + "full_page_writes = " + rs.getString(2) + " (a backup taken on a standby needs on)", null);
                }
            }
        } catch (SQLException e) {
            throw ReplicationException.of(node.name(), "check that clone source " + name() + " streams", e);
        }
        ctx.facts(newHost).require(node.name(), "a copy from standby " + name() + " needs pg_basebackup",
                "pg_basebackup");
    }

    private ReplicationException unfit(PolarException.Reason reason, String why, Throwable cause) {
        return new ReplicationException(reason, node.name(), host(), node.name() + " - cannot clone from standby "
                + name() + " at " + host() + ":" + port() + ": it " + why, cause);
    }

    /**
     * The source's {@code pg_hba.conf} admits the replication role from the new node's host: the
     * rule is added to its managed block where missing, and the source reloads. Undone by putting
     * the file back as it was, unless it changed since.
     */
    Step allowClone() {
        List<HbaRule> rules = Configs.hbaRules(spec, List.of(newHost), Optional.empty());
        return Step.of("allow clone", host(), List.of("pg_hba.conf managed block on " + name()
                        + " (rules added where missing, then pg_ctl reload): " + rules.stream().map(HbaRule::render)
                        .toList()), () -> {
                    String before = source.readFile("pg_hba.conf");
                    String after = PrimaryHba.withRules(before, rules);
                    if (!after.equals(before)) {
                        hbaBefore = before;
                        hbaAfter = after;
                        source.writeFile("pg_hba.conf", after);
                        reload();
                        LOG.info("{} - pg_hba.conf of clone source {} now admits replication from {}", node.name(),
                                name(), newHost);
                    }
                })
                .undoneBy(() -> {
                    String before = hbaBefore;
                    if (before != null && source.readFile("pg_hba.conf").equals(hbaAfter)) {
                        source.writeFile("pg_hba.conf", before);
                        reload();
                    }
                });
    }

    private void reload() {
        source.executor().run(source.serverCommand("pg_ctl", "reload", "-D", source.dataDirectory().toString())
                .withTimeout(Duration.ofSeconds(30)));
        FollowerSteps.sleep(100); // the postmaster rereads the file on SIGHUP, a moment after pg_ctl returns
    }

    /**
     * Waits until the source has replayed the primary's checkpoint whose redo point is (at or after)
     * the new slot's {@code restart_lsn}: see the class comment.
     */
    Step waitForSource() {
        return Step.of("wait for source", host(), List.of(
                "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = '" + node.slotName()
                        + "'  -- on the primary: S, the oldest WAL the new slot keeps",
                "SELECT checkpoint_lsn, redo_lsn FROM pg_control_checkpoint()  -- on the primary, until redo_lsn >= S",
                "SELECT pg_last_wal_replay_lsn()  -- on " + name() + ", until past that checkpoint record: the copy"
                        + " then starts at or after S; waits up to " + spec.verifyTimeout().toMillis() + " ms"),
                this::awaitSource);
    }

    private void awaitSource() {
        long deadline = System.nanoTime() + spec.verifyTimeout().toNanos();
        Lsn checkpoint;
        try (Connection c = ctx.primary().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT s.restart_lsn::text, k.checkpoint_lsn::text, k.redo_lsn >= s.restart_lsn "
                        + "FROM pg_replication_slots s, pg_control_checkpoint() k WHERE s.slot_name = ?")) {
            ps.setString(1, node.slotName().value());
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || rs.getString(1) == null) {
                        throw new ReplicationException(PolarException.Reason.OTHER, node.name(), spec.primaryHost(),
                                node.name() + " - its slot " + node.slotName() + " on the primary keeps no WAL", null);
                    }
                    slotStart = Lsn.parse(rs.getString(1));
                    if (rs.getBoolean(3)) { // else a checkpoint is in progress: its record is not written yet
                        checkpoint = Lsn.parse(rs.getString(2));
                        break;
                    }
                }
                overdue(deadline, "the primary's checkpoint after " + slotStart);
                FollowerSteps.sleep(20);
            }
        } catch (SQLException e) {
            throw ReplicationException.of(node.name(), "read the slot and checkpoint on the primary", e);
        }
        String replayed = "?";
        try (Connection c = source.connect(Duration.ofSeconds(5)); PreparedStatement ps = c.prepareStatement(
                "SELECT pg_last_wal_replay_lsn() > ?::pg_lsn, pg_last_wal_replay_lsn()::text")) {
            ps.setString(1, checkpoint.toString());
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    replayed = rs.getString(2);
                    if (rs.getBoolean(1)) {
                        return;
                    }
                }
                overdue(deadline, "the primary's checkpoint at " + checkpoint + " (replayed up to " + replayed + ")");
                FollowerSteps.sleep(20);
            }
        } catch (SQLException e) {
            throw ReplicationException.of(node.name(), "read the replay position of clone source " + name(), e);
        }
    }

    private void overdue(long deadline, String waitingFor) {
        if (System.nanoTime() > deadline) {
            throw new ReplicationException(PolarException.Reason.TIMEOUT, node.name(), host(), node.name()
                    + " - clone source " + name() + " did not replay " + waitingFor + " within "
                    + spec.verifyTimeout().toMillis() + " ms: a copy from it now would need WAL that the new slot "
                    + "does not keep", null);
        }
    }

    /** What the base backup step shows after the copy. */
    String plannedVerification() {
        return "backup_label START WAL LOCATION >= restart_lsn of slot '" + node.slotName()
                + "' on the primary  -- the copy needs no WAL the slot does not keep";
    }

    /** The copy starts at or after the oldest WAL the new slot keeps (see the class comment). */
    void verifyCopy(PostgresNode standby) {
        String label = standby.readFile("backup_label");
        Lsn start = label.lines().filter(l -> l.startsWith("START WAL LOCATION: ")).findFirst()
                .map(l -> Lsn.parse(l.substring("START WAL LOCATION: ".length()).split(" ")[0]))
                .orElseThrow(() -> new ReplicationException(PolarException.Reason.OTHER, node.name(), newHost,
                        node.name() + " - the copy from " + name() + " has no START WAL LOCATION in its backup_label",
                        null));
        Lsn kept = slotStart;
        if (kept != null && start.compareTo(kept) < 0) {
            throw new ReplicationException(PolarException.Reason.OTHER, node.name(), newHost, node.name()
                    + " - the copy from " + name() + " starts at " + start + ", before " + kept
                    + ", the oldest WAL its slot on the primary keeps", null);
        }
        LOG.info("{} - copied from standby {}: starts at {}, its slot keeps WAL from {}", node.name(), name(), start,
                kept);
    }
}
