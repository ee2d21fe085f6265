package dev.polarscale.replication.internal;

import dev.polarscale.core.PolarException;
import dev.polarscale.replication.EventQuery;
import dev.polarscale.replication.EventRetention;
import dev.polarscale.replication.ReplicationException;
import dev.polarscale.replication.ScaleEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The event history on the primary ({@code polarscale.events}, created with the membership
 * schema) and the in-process listeners of events. Writing history is best effort: a write that
 * fails is logged and reported as {@code false}, never thrown, so an operation never fails for
 * its history. Rows are written on the session that holds the cluster lock while an operation
 * holds it; {@link #trim} keeps the table within the {@link EventRetention}.
 */
public final class EventLog {
    private static final Logger LOG = LoggerFactory.getLogger(EventLog.class);
    /** Longest message stored; exception messages with server log tails can be long. */
    static final int MAX_MESSAGE = 2000;

    private final String primary;
    private final DataSource pool;
    /** Opens a new connection to the primary with a short timeout. */
    private final ClusterLock.ConnectionFactory fresh;
    private final EventRetention retention;
    private final List<Consumer<ScaleEvent>> listeners;

    public EventLog(String primary, DataSource pool, ClusterLock.ConnectionFactory fresh, EventRetention retention,
                    List<Consumer<ScaleEvent>> listeners) {
        this.primary = primary;
        this.pool = pool;
        this.fresh = fresh;
        this.retention = retention;
        this.listeners = listeners;
    }

    /** Tells every listener; a listener that throws is logged and the others still hear it. */
    public void publish(ScaleEvent e) {
        for (Consumer<ScaleEvent> l : listeners) {
            try {
                l.accept(e);
            } catch (RuntimeException ex) {
                LOG.warn("{} - an event listener failed on {}: {}", primary, e, ex.toString());
            }
        }
    }

    /** Inserts the events on {@code c} in one batch; {@code false} (logged) when that failed. */
    public boolean write(Connection c, List<ScaleEvent> events) {
        if (events.isEmpty()) {
            return true;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO polarscale.events (at, operation_id, operation, "
                + "node, step, outcome, duration, reason, message, who) VALUES (?, ?, ?, ?, ?, ?, "
                + "?::bigint * interval '1 microsecond', ?, ?, ?)")) {
            ps.setQueryTimeout(5);
            for (ScaleEvent e : events) {
                ps.setTimestamp(1, Timestamp.from(e.at()));
                ps.setString(2, e.operationId());
                ps.setString(3, e.operation());
                ps.setString(4, e.node());
                ps.setString(5, e.step().orElse(null));
                ps.setString(6, e.outcome().name());
                if (e.duration().isPresent()) {
                    ps.setLong(7, micros(e.duration().get()));
                } else {
                    ps.setNull(7, Types.BIGINT);
                }
                ps.setString(8, e.reason().orElse(null));
                ps.setString(9, e.message().map(EventLog::clip).orElse(null));
                ps.setString(10, e.who());
                ps.addBatch();
            }
            ps.executeBatch();
            return true;
        } catch (SQLException | RuntimeException ex) {
            LOG.debug("{} - cannot record {} event(s) yet: {}", primary, events.size(), ex.toString());
            return false;
        }
    }

    /** Inserts the events on a new connection (an operation that holds no lock); {@code false} when that failed. */
    public boolean writeFresh(List<ScaleEvent> events) {
        return writeOn(fresh, events);
    }

    /** Inserts the events on a pooled connection; {@code false} when that failed. */
    public boolean writePooled(List<ScaleEvent> events) {
        return writeOn(pool::getConnection, events);
    }

    private boolean writeOn(ClusterLock.ConnectionFactory connections, List<ScaleEvent> events) {
        if (events.isEmpty()) {
            return true;
        }
        try (Connection c = connections.open()) {
            return write(c, events);
        } catch (SQLException | RuntimeException ex) {
            LOG.debug("{} - cannot record {} event(s): {}", primary, events.size(), ex.toString());
            return false;
        }
    }

    /** Deletes the rows beyond the retention (the oldest past {@code maxEvents}, and those past {@code maxAge}). */
    public void trim(Connection c) {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM polarscale.events WHERE at < now() - "
                + "?::bigint * interval '1 second' OR id <= (SELECT id FROM polarscale.events ORDER BY id DESC "
                + "OFFSET ? LIMIT 1)")) {
            ps.setQueryTimeout(10);
            ps.setLong(1, retention.maxAge().toSeconds());
            ps.setInt(2, retention.maxEvents());
            int n = ps.executeUpdate();
            if (n > 0) {
                LOG.debug("{} - event history: {} old row(s) deleted", primary, n);
            }
        } catch (SQLException | RuntimeException ex) {
            LOG.debug("{} - cannot trim the event history: {}", primary, ex.toString());
        }
    }

    /** The events the query selects, newest first. */
    public List<ScaleEvent> query(EventQuery q) {
        StringBuilder sql = new StringBuilder("SELECT at, operation_id, operation, node, step, outcome, "
                + "(extract(epoch FROM duration) * 1000000)::bigint, reason, message, who FROM polarscale.events "
                + "WHERE true");
        List<Object> params = new ArrayList<>();
        q.since().ifPresent(t -> {
            sql.append(" AND at >= ?");
            params.add(Timestamp.from(t));
        });
        q.node().ifPresent(n -> {
            sql.append(" AND node = ?");
            params.add(n);
        });
        q.operation().ifPresent(o -> {
            sql.append(" AND operation = ?");
            params.add(o);
        });
        sql.append(" ORDER BY at DESC, id DESC LIMIT ?");
        params.add(q.limit());
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < params.size(); i++) {
                ps.setObject(i + 1, params.get(i));
            }
            List<ScaleEvent> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long us = rs.getLong(7);
                    Optional<Duration> took = rs.wasNull() ? Optional.empty() : Optional.of(Duration.ofNanos(us * 1000));
                    out.add(new ScaleEvent(rs.getTimestamp(1).toInstant(), rs.getString(2), rs.getString(3),
                            rs.getString(4), Optional.ofNullable(rs.getString(5)),
                            ScaleEvent.Outcome.valueOf(rs.getString(6)), took, Optional.ofNullable(rs.getString(8)),
                            Optional.ofNullable(rs.getString(9)), rs.getString(10)));
                }
            }
            return out;
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) {
                throw new ReplicationException(PolarException.Reason.SQL_ERROR, primary, null, primary
                        + " - the cluster has no event history (polarscale.events): it is created with the "
                        + "membership schema by deployPrimary, adopt, or the next operation", e);
            }
            throw ReplicationException.of(primary, "read the event history", e);
        }
    }

    private static long micros(Duration d) {
        try {
            return d.toNanos() / 1000;
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
    }

    private static String clip(String s) {
        return s.length() <= MAX_MESSAGE ? s : s.substring(0, MAX_MESSAGE - 3) + "...";
    }
}
