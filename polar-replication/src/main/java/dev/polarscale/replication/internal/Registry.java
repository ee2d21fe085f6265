package dev.polarscale.replication.internal;

import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PolarException;
import dev.polarscale.replication.ReplicationException;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The cluster's membership, kept on the primary in {@code polarscale.nodes} so that every
 * scaler (any thread, JVM or machine) sees the same cluster, and its unique constraints back
 * the checks on names, ports, slots and host ids. {@code polarscale.canary} holds one row per
 * node for the read-after-write check, {@code polarscale.operations} the {@link Journal},
 * {@code polarscale.events} the {@link EventLog}. The schema is created once; afterwards only DML
 * runs, because DDL on a PolarDB primary waits for every replica slot. A cluster whose schema
 * predates the event history gets its table at its next operation, with a short timeout: if that
 * DDL cannot run (a PolarDB replica slot is inactive), the operation goes on without history.
 */
public final class Registry {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Registry.class);

    /** A registered node. */
    public record Entry(String name, NodeRole role, String host, int port, String dataDirectory,
                        OptionalInt hostId, Optional<String> osUser) {
    }

    private final String node;
    private final DataSource primary;

    public Registry(String node, DataSource primary) {
        this.node = node;
        this.primary = primary;
    }

    static final String EVENTS_SQL = "CREATE TABLE IF NOT EXISTS polarscale.events (id bigserial PRIMARY KEY, "
            + "at timestamptz NOT NULL DEFAULT clock_timestamp(), operation_id text NOT NULL, operation text NOT NULL, "
            + "node text NOT NULL, step text, outcome text NOT NULL CHECK (outcome IN ('STARTED','DONE','FAILED',"
            + "'UNDONE')), duration interval, reason text, message text, who text NOT NULL)";
    static final String EVENTS_INDEX_SQL = "CREATE INDEX IF NOT EXISTS events_at ON polarscale.events (at)";

    public static final List<String> SCHEMA_SQL = List.of(
            "CREATE SCHEMA IF NOT EXISTS polarscale",
            "CREATE TABLE IF NOT EXISTS polarscale.nodes (name text PRIMARY KEY, role text NOT NULL "
                    + "CHECK (role IN ('PRIMARY','REPLICA','STANDBY')), host text NOT NULL, port int NOT NULL "
                    + "CHECK (port BETWEEN 1 AND 65535), data_directory text NOT NULL, host_id int UNIQUE "
                    + "CHECK (host_id BETWEEN 1 AND 512), os_user text, created_at timestamptz NOT NULL DEFAULT now(), "
                    + "UNIQUE (host, port))",
            "CREATE TABLE IF NOT EXISTS polarscale.canary (node text PRIMARY KEY, token text NOT NULL, "
                    + "written_at timestamptz NOT NULL DEFAULT clock_timestamp())",
            "CREATE TABLE IF NOT EXISTS polarscale.operations (id text PRIMARY KEY, operation text NOT NULL, "
                    + "node text NOT NULL, host text NOT NULL, port int NOT NULL, data_directory text NOT NULL, "
                    + "host_id int, delete_data boolean NOT NULL DEFAULT false, force boolean NOT NULL DEFAULT false, "
                    + "os_user text, "
                    + "steps_done text[] NOT NULL DEFAULT '{}', current_step text, state text NOT NULL "
                    + "CHECK (state IN ('RUNNING','KEPT')), owner text NOT NULL, error text, "
                    + "started_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())",
            EVENTS_SQL, EVENTS_INDEX_SQL);

    /** Creates the schema if it is missing (DDL only then, with a statement timeout). */
    public void ensureSchema() {
        try (Connection c = primary.getConnection()) {
            bringUpToDate(c, schemaState(c));
        } catch (SQLException e) {
            throw fail("create the polarscale schema", e);
        }
    }

    /** Which of the schema's tables exist: the membership, the rest of the original schema, the event history. */
    private record SchemaState(boolean nodes, boolean core, boolean events) {
    }

    private static SchemaState schemaState(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT to_regclass('polarscale.nodes') IS NOT NULL, "
                     + "to_regclass('polarscale.canary') IS NOT NULL "
                     + "AND to_regclass('polarscale.operations') IS NOT NULL, "
                     + "to_regclass('polarscale.events') IS NOT NULL")) {
            rs.next();
            return new SchemaState(rs.getBoolean(1), rs.getBoolean(2), rs.getBoolean(3));
        }
    }

    /** Creates what {@code state} lacks: the whole schema, or the event history alone (best effort). */
    private void bringUpToDate(Connection c, SchemaState state) throws SQLException {
        if (state.nodes() && state.core()) {
            if (!state.events()) {
                addEventHistory(c);
            }
            return;
        }
        inTransaction(c, "15s", SCHEMA_SQL);
    }

    /**
     * The cluster is managed: the membership exists and registers a primary (made by
     * {@code deployPrimary} or {@code adopt}); then, as {@link #ensureSchema()}, the tables a newer
     * PolarScale added are created. One connection; no DDL for a cluster that is not managed.
     *
     * @throws ReplicationException {@link PolarException.Reason#NOT_ADOPTED}, naming {@code adopt}
     */
    public void requireManaged() {
        try (Connection c = primary.getConnection()) {
            SchemaState state;
            try {
                state = schemaState(c);
                if (!state.nodes()) {
                    throw notAdopted("it has no membership schema polarscale", null);
                }
                if (!hasPrimary(c)) {
                    throw notAdopted("polarscale.nodes registers no primary", null);
                }
            } catch (SQLException e) {
                throw fail("read the registry", e);
            }
            try {
                bringUpToDate(c, state);
            } catch (SQLException e) {
                throw fail("create the polarscale schema", e);
            }
        } catch (SQLException e) {
            throw fail("read the registry", e);
        }
    }

    private static boolean hasPrimary(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT FROM polarscale.nodes WHERE role = 'PRIMARY')")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** Whether the primary has the membership table {@code polarscale.nodes}. */
    public boolean schemaExists() {
        try (Connection c = primary.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT to_regclass('polarscale.nodes') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        } catch (SQLException e) {
            throw fail("read the registry", e);
        }
    }

    private ReplicationException notAdopted(String why, SQLException cause) {
        return new ReplicationException(PolarException.Reason.NOT_ADOPTED, node, null, node + " - this cluster is "
                + "not managed by PolarScale (" + why + "): a cluster PolarScale did not deploy must be adopted "
                + "first, with ClusterScaler.adopt(AdoptOptions) declaring the followers it has", cause);
    }

    /** The event history table of a schema made before it existed; never fails the caller. */
    private void addEventHistory(Connection c) {
        try {
            inTransaction(c, "3s", List.of(EVENTS_SQL, EVENTS_INDEX_SQL));
            LOG.info("{} - created the event history table polarscale.events", node);
        } catch (SQLException e) {
            LOG.warn("{} - cannot create polarscale.events now ({}); operations go on without event history",
                    node, e.getMessage());
        }
    }

    private static void inTransaction(Connection c, String timeout, List<String> statements) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("SET LOCAL statement_timeout = '" + timeout + "'");
            for (String sql : statements) {
                s.execute(sql);
            }
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    public List<Entry> list() {
        return query("SELECT name, role, host, port, data_directory, host_id, os_user FROM polarscale.nodes "
                + "ORDER BY role <> 'PRIMARY', created_at, name");
    }

    public Optional<Entry> get(String name) {
        List<Entry> l = query("SELECT name, role, host, port, data_directory, host_id, os_user FROM polarscale.nodes "
                + "WHERE name = ?", name);
        return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
    }

    public void add(Entry e) {
        try (Connection c = primary.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO polarscale.nodes "
                     + "(name, role, host, port, data_directory, host_id, os_user) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, e.name());
            ps.setString(2, e.role().name());
            ps.setString(3, e.host());
            ps.setInt(4, e.port());
            ps.setString(5, e.dataDirectory());
            if (e.hostId().isPresent()) {
                ps.setInt(6, e.hostId().getAsInt());
            } else {
                ps.setNull(6, Types.INTEGER);
            }
            ps.setString(7, e.osUser().orElse(null));
            ps.executeUpdate();
        } catch (SQLException ex) {
            throw fail("register node " + e.name(), ex);
        }
    }

    /** Forgets a node and its canary row (one statement). */
    public void remove(String name) {
        update("unregister node " + name, "WITH gone AS (DELETE FROM polarscale.nodes WHERE name = ?) "
                + "DELETE FROM polarscale.canary WHERE node = ?", name, name);
    }

    /** Writes a fresh canary token for a node; returns when it is committed. */
    public void writeCanary(String name, String token) {
        update("write the canary row for " + name, "INSERT INTO polarscale.canary (node, token) VALUES (?, ?) "
                + "ON CONFLICT (node) DO UPDATE SET token = excluded.token, written_at = clock_timestamp()", name, token);
    }

    private void update(String what, String sql, String... params) {
        try (Connection c = primary.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setString(i + 1, params[i]);
            }
            ps.executeUpdate();
        } catch (SQLException e) {
            throw fail(what, e);
        }
    }

    private List<Entry> query(String sql, String... params) {
        try (Connection c = primary.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setString(i + 1, params[i]);
            }
            List<Entry> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int hid = rs.getInt(6);
                    OptionalInt hostId = rs.wasNull() ? OptionalInt.empty() : OptionalInt.of(hid);
                    out.add(new Entry(rs.getString(1), NodeRole.valueOf(rs.getString(2)), rs.getString(3),
                            rs.getInt(4), rs.getString(5), hostId, Optional.ofNullable(rs.getString(7))));
                }
            }
            return out;
        } catch (SQLException e) {
            throw fail("read the registry", e);
        }
    }

    private ReplicationException fail(String what, SQLException e) {
        if ("42P01".equals(ReplicationException.serverSqlState(e))) {
            return notAdopted("cannot " + what + ": " + e.getMessage(), e);
        }
        return ReplicationException.of(node, what, e);
    }
}
