package dev.polarscale.replication;

import dev.polarscale.core.Lsn;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.SlotName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Physical replication slots on the primary, over JDBC. Slot names are {@link SlotName}s
 * (validated) and always bound as parameters, never concatenated into SQL.
 *
 * <pre>{@code
 * ReplicationSlotManager slots = new ReplicationSlotManager("primary", dataSource);
 * slots.create(SlotName.of("replica1"));                 // idempotent
 * slots.awaitActive(SlotName.of("replica1"), Duration.ofSeconds(30));
 * slots.drop(SlotName.of("replica1"), DropOptions.waitUntilInactive(Duration.ofSeconds(30)));
 * }</pre>
 *
 * <p>Why the care: on PolarDB a replica started before its slot exists serves stale data, and a
 * slot kept after its replica stopped retains WAL for ever and makes DDL on the primary hang.
 * A primary whose {@code max_slot_wal_keep_size} is {@code -1} (the default) has no bound on that
 * WAL: the first {@link #create} through a {@code DataSource} logs a WARNING then, and
 * {@link #walKeepLimit()} tells a caller the limit.
 *
 * <p>Every failure is a {@link ReplicationException} with a {@link PolarException.Reason}; its
 * {@link PolarException#sqlState()} is the server's when the server refused a statement (for
 * instance {@code 55006} for a slot another session holds) and empty for a deadline that passed
 * on this side.
 */
public final class ReplicationSlotManager {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationSlotManager.class);

    private static final String SELECT = "SELECT slot_name, slot_type, active, active_pid, restart_lsn::text, "
            + "coalesce(wal_status, ''), CASE WHEN restart_lsn IS NULL THEN 0 "
            + "WHEN pg_is_in_recovery() THEN 0 "
            + "ELSE greatest(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint END "
            + "FROM pg_replication_slots";
    private static final String SQLSTATE_DUPLICATE = "42710";
    private static final String SQLSTATE_UNDEFINED = "42704";
    /** object_in_use: the slot is held by another session (a walsender). */
    private static final String SQLSTATE_IN_USE = "55006";
    /** configuration_limit_exceeded: all max_replication_slots are taken. */
    private static final String SQLSTATE_LIMIT = "53400";
    private static final Duration POLL = Duration.ofMillis(10);
    private static final Map<String, Long> UNITS = Map.of("B", 1L, "kB", 1L << 10, "MB", 1L << 20,
            "GB", 1L << 30, "TB", 1L << 40);
    /**
     * Data sources whose primary's WAL limit has been checked. Kept per data source, not per
     * manager, because callers such as {@link ClusterScaler} make a manager per call: one warning
     * per connection pool is enough.
     */
    private static final Set<DataSource> WAL_LIMIT_CHECKED = Collections.synchronizedSet(
            Collections.newSetFromMap(new WeakHashMap<>()));

    private final String node;
    private final DataSource dataSource;

    /**
     * @param node       the primary's name, for messages
     * @param dataSource connections to the primary as a user allowed to manage slots
     */
    public ReplicationSlotManager(String node, DataSource dataSource) {
        this.node = Objects.requireNonNull(node, "node");
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** How {@link #drop} treats a slot that is still in use. */
    public record DropOptions(Duration waitInactive, boolean terminateWalSender) {
        public DropOptions {
            Objects.requireNonNull(waitInactive, "waitInactive");
            if (waitInactive.isNegative()) {
                throw new IllegalArgumentException("waitInactive must not be negative: " + waitInactive);
            }
        }

        /** Refuse an active slot at once. */
        public static DropOptions refuseActive() {
            return new DropOptions(Duration.ZERO, false);
        }

        /** Wait for a stopping node's walsender to go away, then drop; refuse if it does not. */
        public static DropOptions waitUntilInactive(Duration timeout) {
            return new DropOptions(timeout, false);
        }

        /** Terminate the walsender that holds the slot, then drop. */
        public static DropOptions terminateWalSender(Duration timeout) {
            return new DropOptions(timeout, true);
        }
    }

    /**
     * Creates a physical slot that reserves WAL at once ({@code restart_lsn} is set before this
     * returns). An existing physical slot of that name is fine (returned as it is); a logical one
     * is an error. The first call through a data source also checks the primary's
     * {@code max_slot_wal_keep_size} and logs a WARNING when it is unlimited.
     *
     * @return the slot
     * @throws ReplicationException {@link PolarException.Reason#SLOT_EXISTS} a logical slot holds the
     *                              name; {@link PolarException.Reason#NO_FREE_SLOT} all
     *                              {@code max_replication_slots} are taken; else the server refused
     */
    public SlotInfo create(SlotName slot) {
        Objects.requireNonNull(slot, "slot");
        checkWalLimitOnce();
        Optional<SlotInfo> existing = get(slot);
        if (existing.isPresent()) {
            return requirePhysical(existing.get());
        }
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT pg_create_physical_replication_slot(?, true)")) {
            ps.setString(1, slot.value());
            ps.execute();
            LOG.info("{} - created physical replication slot {}", node, slot);
        } catch (SQLException e) {
            String state = PolarException.serverSqlState(e);
            if (SQLSTATE_LIMIT.equals(state)) {
                throw new ReplicationException(PolarException.Reason.NO_FREE_SLOT, node, null, node
                        + " - cannot create slot " + slot + ": " + e.getMessage() + " (SQLSTATE " + state
                        + "); drop unused slots or raise max_replication_slots on the primary", e);
            }
            if (!SQLSTATE_DUPLICATE.equals(state)) {
                throw fail("create slot " + slot, e);
            }
            // created concurrently by someone else: fine if physical
        }
        return requirePhysical(get(slot).orElseThrow(
                () -> new ReplicationException(PolarException.Reason.OTHER, node,
                        node + " - slot " + slot + " vanished right after creation")));
    }

    /**
     * Drops a slot; nothing happens if it does not exist.
     *
     * @return {@code true} if a slot was dropped
     * @throws ReplicationException {@link PolarException.Reason#SLOT_ACTIVE} the slot stayed in use:
     *                              refused by the server (SQLSTATE {@code 55006}, the message names
     *                              the walsender's PID), or still active when the wait ended (no
     *                              SQLSTATE)
     */
    public boolean drop(SlotName slot, DropOptions options) {
        Objects.requireNonNull(slot, "slot");
        Objects.requireNonNull(options, "options");
        Optional<SlotInfo> info = get(slot);
        if (info.isEmpty()) {
            return false;
        }
        if (info.get().active()) {
            if (options.terminateWalSender() && info.get().activePid().isPresent()) {
                terminate(info.get().activePid().getAsLong());
            }
            if (!options.waitInactive().isZero()) {
                awaitInactive(slot, options.waitInactive());
            }
        }
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
            ps.setString(1, slot.value());
            ps.execute();
            LOG.info("{} - dropped replication slot {}", node, slot);
            return true;
        } catch (SQLException e) {
            String state = PolarException.serverSqlState(e);
            if (SQLSTATE_UNDEFINED.equals(state)) {
                return false;
            }
            if (SQLSTATE_IN_USE.equals(state)) {
                throw new ReplicationException(PolarException.Reason.SLOT_ACTIVE, node, null, node
                        + " - cannot drop slot " + slot + ": " + e.getMessage() + " (SQLSTATE " + state
                        + "); stop the node that streams through it, or drop with DropOptions.terminateWalSender", e);
            }
            throw fail("drop slot " + slot, e);
        }
    }

    /**
     * The primary's {@code max_slot_wal_keep_size} in bytes: the most WAL a slot may keep from
     * being recycled before the server invalidates it ({@code wal_status = lost}). Empty when
     * unlimited ({@code -1}, PostgreSQL's default): then a slot whose node is gone keeps WAL until
     * the primary's disk is full.
     *
     * <pre>{@code
     * if (slots.walKeepLimit().isEmpty()) {
     *     alert("set max_slot_wal_keep_size on the primary");
     * }
     * }</pre>
     *
     * @throws ReplicationException the setting could not be read
     */
    public OptionalLong walKeepLimit() {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT setting::bigint, coalesce(unit, 'B') FROM pg_settings WHERE name = ?")) {
            ps.setString(1, "max_slot_wal_keep_size");
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return OptionalLong.empty(); // a server before PostgreSQL 13 has no limit at all
                }
                long value = rs.getLong(1);
                String unit = rs.getString(2);
                if (value < 0) {
                    return OptionalLong.empty();
                }
                Long factor = UNITS.get(unit);
                if (factor == null) {
                    throw new ReplicationException(PolarException.Reason.OTHER, node, node
                            + " - unexpected unit '" + unit + "' of max_slot_wal_keep_size");
                }
                return OptionalLong.of(Math.multiplyExact(value, factor));
            }
        } catch (SQLException e) {
            throw fail("read max_slot_wal_keep_size", e);
        }
    }

    /** Once per data source: warn when the primary keeps WAL for slots without a limit. */
    private void checkWalLimitOnce() {
        if (!WAL_LIMIT_CHECKED.add(dataSource)) {
            return;
        }
        OptionalLong limit;
        try {
            limit = walKeepLimit();
        } catch (ReplicationException e) {
            WAL_LIMIT_CHECKED.remove(dataSource); // ask again next time; the create reports the failure
            LOG.debug("{} - cannot check max_slot_wal_keep_size: {}", node, e.getMessage());
            return;
        }
        if (limit.isEmpty()) {
            LOG.warn("{} - max_slot_wal_keep_size is -1 (unlimited): a slot whose node is gone keeps WAL "
                    + "until the primary's disk is full. Set a limit on the primary, e.g. ALTER SYSTEM SET "
                    + "max_slot_wal_keep_size = '64GB'; SELECT pg_reload_conf();", node);
        } else {
            LOG.debug("{} - max_slot_wal_keep_size is {} bytes", node, limit.getAsLong());
        }
    }

    /** The slot, if it exists. */
    public Optional<SlotInfo> get(SlotName slot) {
        Objects.requireNonNull(slot, "slot");
        List<SlotInfo> found = query(SELECT + " WHERE slot_name = ?", slot.value());
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    /** Every slot on the primary, physical and logical, ordered by name. */
    public List<SlotInfo> list() {
        return query(SELECT + " ORDER BY slot_name");
    }

    /** Inactive slots that keep more than {@code bytes} of WAL: candidates to investigate or drop. */
    public List<SlotInfo> inactiveRetainingMoreThan(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes must not be negative: " + bytes);
        }
        List<SlotInfo> out = new ArrayList<>();
        for (SlotInfo s : list()) {
            if (!s.active() && s.retainedBytes() > bytes) {
                out.add(s);
            }
        }
        return out;
    }

    /**
     * Waits until a walsender uses the slot.
     *
     * @throws ReplicationException {@link PolarException.Reason#NOT_STREAMING} when the slot is not
     *                              active (or missing) at the deadline
     */
    public SlotInfo awaitActive(SlotName slot, Duration timeout) {
        return await(slot, timeout, true);
    }

    /**
     * Waits until no walsender uses the slot (or the slot is gone).
     *
     * @throws ReplicationException {@link PolarException.Reason#SLOT_ACTIVE} when the slot is still
     *                              active at the deadline; the message names the walsender's PID
     */
    public void awaitInactive(SlotName slot, Duration timeout) {
        await(slot, timeout, false);
    }

    private SlotInfo await(SlotName slot, Duration timeout, boolean active) {
        Objects.requireNonNull(slot, "slot");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<SlotInfo> s = get(slot);
            if (!active && (s.isEmpty() || !s.get().active())) {
                return s.orElse(null);
            }
            if (active && s.isPresent() && s.get().active()) {
                return s.get();
            }
            if (System.nanoTime() > deadline) {
                String state = s.map(i -> i.active() ? "active (pid " + i.activePid().orElse(-1) + ")" : "inactive")
                        .orElse("missing");
                throw new ReplicationException(active ? PolarException.Reason.NOT_STREAMING
                        : PolarException.Reason.SLOT_ACTIVE, node, node + " - slot " + slot + " did not become "
                        + (active ? "active" : "inactive") + " within " + timeout.toMillis() + " ms; it is " + state);
            }
            sleep();
        }
    }

    private void terminate(long pid) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
            ps.setInt(1, Math.toIntExact(pid));
            ps.execute();
            LOG.info("{} - terminated walsender pid {}", node, pid);
        } catch (SQLException e) {
            throw fail("terminate walsender " + pid, e);
        }
    }

    private List<SlotInfo> query(String sql, String... params) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setString(i + 1, params[i]);
            }
            List<SlotInfo> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long pid = rs.getLong(4);
                    OptionalLong activePid = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(pid);
                    String lsn = rs.getString(5);
                    out.add(new SlotInfo(SlotName.of(rs.getString(1)), "physical".equals(rs.getString(2)),
                            rs.getBoolean(3), activePid, lsn == null ? Lsn.INVALID : Lsn.parse(lsn),
                            rs.getString(6), rs.getLong(7)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw fail("read pg_replication_slots", e);
        }
    }

    private SlotInfo requirePhysical(SlotInfo s) {
        if (!s.physical()) {
            throw new ReplicationException(PolarException.Reason.SLOT_EXISTS, node, node + " - slot " + s.name()
                    + " exists but is a logical slot; a node needs a physical one: choose another name");
        }
        return s;
    }

    private ReplicationException fail(String what, SQLException e) {
        return ReplicationException.of(node, what, e);
    }

    private static void sleep() {
        try {
            Thread.sleep(POLL.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PolarException("interrupted while waiting for a replication slot", e);
        }
    }
}
