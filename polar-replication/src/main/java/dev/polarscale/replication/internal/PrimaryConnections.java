package dev.polarscale.replication.internal;

import com.zaxxer.hikari.HikariDataSource;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;

/**
 * The scaler's pool of connections to the primary, checked on every borrow. HikariCP only
 * validates a connection that sat idle for half a second, so right after a primary restart it
 * can hand out a connection whose session is gone ({@code FATAL: terminating connection due to
 * administrator command}). Here a borrowed connection must answer {@code isValid} (one round
 * trip); one that does not reveals a restart: every pooled connection is retired and a fresh one
 * is made.
 */
final class PrimaryConnections implements DataSource {
    private final HikariDataSource pool;

    PrimaryConnections(HikariDataSource pool) {
        this.pool = pool;
    }

    HikariDataSource pool() {
        return pool;
    }

    @Override
    public Connection getConnection() throws SQLException {
        Connection c = pool.getConnection();
        if (c.isValid(2)) {
            return c;
        }
        pool.evictConnection(c);
        if (pool.getHikariPoolMXBean() != null) {
            pool.getHikariPoolMXBean().softEvictConnections();
        }
        return pool.getConnection();
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("the pool's credentials are fixed");
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return pool.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        pool.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        pool.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return pool.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return pool.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(pool)) {
            return iface.cast(pool);
        }
        return pool.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(pool) || pool.isWrapperFor(iface);
    }
}
