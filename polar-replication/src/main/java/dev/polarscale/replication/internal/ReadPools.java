package dev.polarscale.replication.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code DataSource} of a read routing: one that callers keep while the set of nodes behind
 * it changes. Each set is one HikariCP pool on one multi-host URL; {@link #use} starts a pool for
 * a new URL and retires the old one: its idle connections are closed at once, each borrowed one
 * when it is returned (HikariCP's soft eviction), and the pool itself once none is borrowed, or
 * after the drain timeout (then borrowed connections are closed under their users). A connection
 * to a removed node is therefore never handed out again, and one in use is not cut off while its
 * node still runs. Pools keep no idle minimum: a pool makes connections when they are asked for
 * and a retired pool never makes new ones.
 */
public final class ReadPools implements DataSource, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReadPools.class);
    private static final AtomicInteger POOLS = new AtomicInteger();

    private record Retired(HikariDataSource pool, long deadline) {
    }

    private final String user;
    private final String password;
    private final int maximumPoolSize;
    private final Duration drainTimeout;
    private volatile HikariDataSource current;
    private volatile String unavailable = "no read target chosen yet";
    private final List<Retired> retired = new CopyOnWriteArrayList<>();
    private boolean closed;

    public ReadPools(String user, String password, int maximumPoolSize, Duration drainTimeout) {
        this.user = user;
        this.password = password;
        this.maximumPoolSize = maximumPoolSize;
        this.drainTimeout = drainTimeout;
    }

    /**
     * Routes new connections to {@code url} from now on (nothing changes if it is the current one);
     * empty: no connection can be had, {@code why} says why.
     */
    public synchronized void use(Optional<String> url, String why) {
        String currentUrl = current == null ? null : current.getJdbcUrl();
        if (closed || url.map(u -> u.equals(currentUrl)).orElse(currentUrl == null)) {
            unavailable = why;
            return;
        }
        HikariDataSource old = current;
        if (url.isPresent()) {
            HikariConfig cfg = new HikariConfig();
            cfg.setPoolName("polarscale-reads-" + POOLS.incrementAndGet());
            cfg.setJdbcUrl(url.get());
            cfg.setUsername(user);
            cfg.setPassword(password);
            cfg.setMaximumPoolSize(maximumPoolSize);
            cfg.setMinimumIdle(0);
            cfg.setConnectionTimeout(10_000);
            cfg.setInitializationFailTimeout(-1);
            current = new HikariDataSource(cfg);
            LOG.info("read routing - {} now routes to {}", cfg.getPoolName(), url.get());
        } else {
            current = null;
            LOG.warn("read routing - no read target: {}", why);
        }
        unavailable = why;
        if (old != null) {
            HikariPoolMXBean mx = old.getHikariPoolMXBean();
            if (mx != null) {
                mx.softEvictConnections();
            }
            retired.add(new Retired(old, System.nanoTime() + drainTimeout.toNanos()));
        }
        reap();
    }

    /** Closes each retired pool none of whose connections is borrowed any more, or whose drain time is up. */
    public synchronized void reap() {
        long now = System.nanoTime();
        List<Retired> done = new ArrayList<>();
        for (Retired r : retired) {
            HikariPoolMXBean mx = r.pool().getHikariPoolMXBean();
            boolean idle = mx == null || mx.getActiveConnections() == 0;
            if (idle || now - r.deadline() > 0) {
                if (!idle) {
                    LOG.warn("read routing - {}: {} connection(s) still borrowed after the drain timeout of {} ms; "
                            + "closing them", r.pool().getPoolName(), mx.getActiveConnections(), drainTimeout.toMillis());
                }
                r.pool().close();
                done.add(r);
            }
        }
        retired.removeAll(done);
    }

    /** Retired pools not closed yet (their borrowed connections are still out). */
    public int retiredPools() {
        return retired.size();
    }

    @Override
    public Connection getConnection() throws SQLException {
        if (!retired.isEmpty()) {
            reap();
        }
        HikariDataSource pool = current;
        if (pool == null) {
            throw new SQLException("read routing - no node to read from: " + unavailable, "08001");
        }
        return pool.getConnection();
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("the read routing's credentials are fixed");
    }

    /** Closes every pool, also connections still borrowed. */
    @Override
    public synchronized void close() {
        closed = true;
        if (current != null) {
            current.close();
            current = null;
        }
        unavailable = "the read routing is closed";
        for (Retired r : retired) {
            r.pool().close();
        }
        retired.clear();
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        throw new SQLFeatureNotSupportedException("logging goes through SLF4J");
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        throw new SQLFeatureNotSupportedException("the pools' connection timeout is fixed");
    }

    @Override
    public int getLoginTimeout() {
        return 10;
    }

    @Override
    public java.util.logging.Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("logging goes through SLF4J");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("not a wrapper for " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }
}
