package dev.polarscale.replication.internal;

import dev.polarscale.replication.ReplicationException;

import javax.sql.DataSource;
import java.lang.management.ManagementFactory;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;

/**
 * The operation journal on the primary ({@code polarscale.operations}): one row per operation
 * in progress, written before its first change and deleted when it ends. A process that dies
 * half-way (a redeployed platform, the OOM killer) leaves its row behind, naming the operation,
 * its node spec, the steps it finished and the one it was in; the next scaler to take the
 * cluster lock finds the row (no live operation can own it while another holds the lock) and
 * finishes or undoes the operation ({@link Recovery}).
 *
 * <p>Rows are written on the connection that holds the cluster lock: if the primary restarted
 * and the lock is gone, the write fails and the operation stops instead of going on unlocked.
 *
 * <p>A row is also kept, in state {@code KEPT}, for an add that failed with
 * {@code keepOnFailure}: what it made stays for debugging until {@code removeNode} or a retry of
 * the same add cleans it up.
 */
public final class Journal {

    /** A row: the operation, its node spec, and how far it got. */
    public record Entry(String id, Operation.Kind kind, String node, String host, int port, String dataDirectory,
                        OptionalInt hostId, boolean deleteData, boolean force, Optional<String> osUser,
                        List<String> stepsDone,
                        Optional<String> currentStep, State state, String owner, Optional<String> error) {
        public Entry {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(node, "node");
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(dataDirectory, "dataDirectory");
            Objects.requireNonNull(hostId, "hostId");
            Objects.requireNonNull(osUser, "osUser");
            stepsDone = List.copyOf(stepsDone);
            Objects.requireNonNull(currentStep, "currentStep");
            Objects.requireNonNull(state, "state");
            Objects.requireNonNull(owner, "owner");
            Objects.requireNonNull(error, "error");
        }

        /** What an operation journals before it runs: its spec, no progress yet. */
        public static Entry of(Operation.Kind kind, String node, String host, int port, String dataDirectory,
                               OptionalInt hostId, boolean deleteData, boolean force, Optional<String> osUser) {
            return new Entry("", kind, node, host, port, dataDirectory, hostId, deleteData, force, osUser, List.of(),
                    Optional.empty(), State.RUNNING, Journal.owner(), Optional.empty());
        }

        /** The steps this operation started: those it finished and the one it was in. */
        public List<String> stepsStarted() {
            List<String> all = new ArrayList<>(stepsDone);
            currentStep.filter(s -> !all.contains(s)).ifPresent(all::add);
            return all;
        }
    }

    /** {@code RUNNING}: in progress or interrupted; {@code KEPT}: failed, kept for debugging. */
    public enum State { RUNNING, KEPT }

    private static final String COLUMNS = "id, operation, node, host, port, data_directory, host_id, delete_data, "
            + "force, os_user, steps_done, current_step, state, owner, error";

    private final String primary;
    private final DataSource dataSource;

    public Journal(String primary, DataSource dataSource) {
        this.primary = primary;
        this.dataSource = dataSource;
    }

    /** This process, as the journal names owners: {@code pid@host}. */
    static String owner() {
        return ManagementFactory.getRuntimeMXBean().getName();
    }

    /** Records an operation about to change the cluster; returns its id. */
    public String begin(Connection c, Entry e) {
        String id = UUID.randomUUID().toString();
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO polarscale.operations (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', "
                        + "NULL, 'RUNNING', ?, NULL)")) {
            ps.setString(1, id);
            ps.setString(2, e.kind().name());
            ps.setString(3, e.node());
            ps.setString(4, e.host());
            ps.setInt(5, e.port());
            ps.setString(6, e.dataDirectory());
            if (e.hostId().isPresent()) {
                ps.setInt(7, e.hostId().getAsInt());
            } else {
                ps.setNull(7, Types.INTEGER);
            }
            ps.setBoolean(8, e.deleteData());
            ps.setBoolean(9, e.force());
            ps.setString(10, e.osUser().orElse(null));
            ps.setString(11, e.owner());
            ps.executeUpdate();
            return id;
        } catch (SQLException ex) {
            throw ReplicationException.of(primary, "journal " + e.kind().label() + " " + e.node(), ex);
        }
    }

    /** Records that the steps in {@code done} finished and {@code current} is about to run. */
    public void progress(Connection c, String id, List<String> done, String current) {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE polarscale.operations SET steps_done = ?, current_step = ?, updated_at = now() WHERE id = ?")) {
            ps.setArray(1, c.createArrayOf("text", done.toArray()));
            ps.setString(2, current);
            ps.setString(3, id);
            ps.executeUpdate();
        } catch (SQLException ex) {
            throw ReplicationException.of(primary, "journal step " + current, ex);
        }
    }

    /** The operation ended (done, or fully undone): its row goes. */
    public void finish(Connection c, String id) {
        update(c, "end the journal entry " + id, "DELETE FROM polarscale.operations WHERE id = ?", id);
    }

    /** A failed add keeps what it made for debugging: the row stays, marked {@code KEPT}. */
    public void keep(Connection c, String id, String error) {
        update(c, "keep the journal entry " + id, "UPDATE polarscale.operations SET state = 'KEPT', error = ?, "
                + "updated_at = now() WHERE id = ?", error, id);
    }

    /** A recovery attempt failed; the row stays for the next one, with the reason. */
    public void recoveryFailed(Connection c, String id, String error) {
        update(c, "record the failed recovery of " + id, "UPDATE polarscale.operations SET error = ?, "
                + "updated_at = now() WHERE id = ?", error, id);
    }

    /** Every row, oldest first. */
    public List<Entry> list() {
        try (Connection c = dataSource.getConnection()) {
            return list(c);
        } catch (SQLException ex) {
            throw ReplicationException.of(primary, "read the operation journal", ex);
        }
    }

    /** Every row, oldest first, read on {@code c}. */
    public List<Entry> list(Connection c) {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM polarscale.operations ORDER BY started_at, id");
             ResultSet rs = ps.executeQuery()) {
            List<Entry> out = new ArrayList<>();
            while (rs.next()) {
                int hostId = rs.getInt(7);
                OptionalInt hid = rs.wasNull() ? OptionalInt.empty() : OptionalInt.of(hostId);
                Array done = rs.getArray(11);
                List<String> steps = done == null ? List.of() : List.of((String[]) done.getArray());
                out.add(new Entry(rs.getString(1), Operation.Kind.valueOf(rs.getString(2)), rs.getString(3),
                        rs.getString(4), rs.getInt(5), rs.getString(6), hid, rs.getBoolean(8), rs.getBoolean(9),
                        Optional.ofNullable(rs.getString(10)), steps, Optional.ofNullable(rs.getString(12)),
                        State.valueOf(rs.getString(13)), rs.getString(14), Optional.ofNullable(rs.getString(15))));
            }
            return out;
        } catch (SQLException ex) {
            throw ReplicationException.of(primary, "read the operation journal", ex);
        }
    }

    private void update(Connection c, String what, String sql, String... params) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setString(i + 1, params[i]);
            }
            ps.executeUpdate();
        } catch (SQLException ex) {
            throw ReplicationException.of(primary, what, ex);
        }
    }
}
