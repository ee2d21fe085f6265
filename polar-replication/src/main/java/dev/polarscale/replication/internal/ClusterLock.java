package dev.polarscale.replication.internal;

import dev.polarscale.core.PolarException;
import dev.polarscale.replication.ReplicationException;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/**
 * A session-level PostgreSQL advisory lock on the primary that serialises every scaling
 * operation on a cluster, across threads, JVMs and machines. It lives on one connection held
 * for the operation, opened for the purpose and not pooled (a pool would keep the session, and
 * the lock, alive after a failed unlock). If the JVM dies, the server releases it with the session.
 */
public final class ClusterLock implements AutoCloseable {
    /** The advisory lock key: "PolarScl" as a number, chosen to stay clear of applications' keys. */
    static final long KEY = 0x506f6c61725363L;

    private final Connection connection;

    private ClusterLock(Connection connection) {
        this.connection = connection;
    }

    /** Opens a new, unpooled connection to the primary. */
    @FunctionalInterface
    public interface ConnectionFactory {
        Connection open() throws SQLException;
    }

    public static ClusterLock acquire(String node, ConnectionFactory primary, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Connection c = null;
        try {
            c = primary.open();
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
                ps.setLong(1, KEY);
                while (true) {
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getBoolean(1)) {
                            return new ClusterLock(c);
                        }
                    }
                    if (System.nanoTime() > deadline) {
                        throw new ReplicationException(PolarException.Reason.LOCK_TIMEOUT, node, node
                                + " - another scaling operation holds the cluster lock; gave up after "
                                + timeout.toMillis() + " ms");
                    }
                    Thread.sleep(100);
                }
            }
        } catch (SQLException e) {
            closeQuietly(c);
            throw ReplicationException.of(node, "take the cluster lock on the primary", e);
        } catch (InterruptedException e) {
            closeQuietly(c);
            Thread.currentThread().interrupt();
            throw new ReplicationException(PolarException.Reason.INTERRUPTED, node,
                    node + " - interrupted while waiting for the cluster lock");
        } catch (RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    @Override
    public void close() {
        try (PreparedStatement ps = connection.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            ps.setLong(1, KEY);
            ps.execute();
        } catch (SQLException e) {
            // the session ends below, which releases the lock anyway
        } finally {
            closeQuietly(connection);
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // nothing left to do
            }
        }
    }
}
