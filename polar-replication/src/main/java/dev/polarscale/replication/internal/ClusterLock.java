package dev.polarscale.replication.internal;

import com.zaxxer.hikari.HikariDataSource;
import dev.polarscale.core.PolarException;
import dev.polarscale.replication.ReplicationException;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/**
 * A session-level PostgreSQL advisory lock on the primary that serialises every scaling
 * operation on a cluster, across threads, JVMs and machines. It lives on one connection held
 * for the whole operation; the operation's journal writes go through that same connection, so
 * a lock lost with its session (a primary restart) stops the operation at its next write. If
 * the JVM dies, the server releases the lock with the session.
 *
 * <p>A pooled connection is unlocked before it goes back to the pool; if the unlock fails the
 * connection is evicted instead, so that no pooled session keeps the lock.
 */
public final class ClusterLock implements AutoCloseable {
    /** The advisory lock key: "PolarScl" as a number, chosen to stay clear of applications' keys. */
    static final long KEY = 0x506f6c61725363L;

    /** Opens a new, unpooled connection to the primary. */
    @FunctionalInterface
    public interface ConnectionFactory {
        Connection open() throws SQLException;
    }

    private final Connection connection;
    private final HikariDataSource pool;

    private ClusterLock(Connection connection, HikariDataSource pool) {
        this.connection = connection;
        this.pool = pool;
    }

    /** Takes the lock on a connection of its own, closed when the lock is released. */
    public static ClusterLock acquire(String node, ConnectionFactory primary, Duration timeout) {
        try {
            return acquire(node, primary.open(), null, timeout);
        } catch (SQLException e) {
            throw ReplicationException.of(node, "take the cluster lock on the primary", e);
        }
    }

    /**
     * Takes the lock on a pooled connection, returned to the pool (or evicted) when released.
     * While another operation holds the lock, each attempt borrows a connection and gives it back:
     * a waiting operation never keeps one of the pool's few connections from the holder.
     */
    public static ClusterLock acquire(String node, DataSource pool, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            HikariDataSource hikari = pool.isWrapperFor(HikariDataSource.class) ? pool.unwrap(HikariDataSource.class)
                    : null;
            while (true) {
                Connection c = pool.getConnection();
                boolean held = false;
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
                    ps.setLong(1, KEY);
                    try (ResultSet rs = ps.executeQuery()) {
                        held = rs.next() && rs.getBoolean(1);
                    }
                } catch (SQLException e) {
                    discard(c, hikari);
                    throw e;
                }
                if (held) {
                    return new ClusterLock(c, hikari);
                }
                closeQuietly(c);
                if (System.nanoTime() > deadline) {
                    throw new ReplicationException(PolarException.Reason.LOCK_TIMEOUT, node, node
                            + " - another scaling operation holds the cluster lock; gave up after "
                            + timeout.toMillis() + " ms");
                }
                Thread.sleep(50);
            }
        } catch (SQLException e) {
            throw ReplicationException.of(node, "take the cluster lock on the primary", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReplicationException(PolarException.Reason.INTERRUPTED, node,
                    node + " - interrupted while waiting for the cluster lock");
        }
    }

    private static ClusterLock acquire(String node, Connection c, HikariDataSource pool, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            ps.setLong(1, KEY);
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        return new ClusterLock(c, pool);
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new ReplicationException(PolarException.Reason.LOCK_TIMEOUT, node, node
                            + " - another scaling operation holds the cluster lock; gave up after "
                            + timeout.toMillis() + " ms");
                }
                Thread.sleep(10);
            }
        } catch (SQLException e) {
            discard(c, pool);
            throw ReplicationException.of(node, "take the cluster lock on the primary", e);
        } catch (InterruptedException e) {
            discard(c, pool);
            Thread.currentThread().interrupt();
            throw new ReplicationException(PolarException.Reason.INTERRUPTED, node,
                    node + " - interrupted while waiting for the cluster lock");
        } catch (RuntimeException e) {
            discard(c, pool);
            throw e;
        }
    }

    /** The session that holds the lock. */
    public Connection connection() {
        return connection;
    }

    @Override
    public void close() {
        boolean unlocked = false;
        try (PreparedStatement ps = connection.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            ps.setLong(1, KEY);
            try (ResultSet rs = ps.executeQuery()) {
                unlocked = rs.next() && rs.getBoolean(1);
            }
        } catch (SQLException e) {
            // the session is gone, and the lock with it
        }
        if (unlocked && pool != null) {
            closeQuietly(connection);
        } else {
            discard(connection, pool);
        }
    }

    private static void discard(Connection c, HikariDataSource pool) {
        if (pool != null) {
            pool.evictConnection(c);
        } else {
            closeQuietly(c);
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing left to do
        }
    }
}
