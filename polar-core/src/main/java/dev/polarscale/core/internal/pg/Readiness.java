package dev.polarscale.core.internal.pg;

import dev.polarscale.core.NodeStartupException;
import dev.polarscale.core.NodeState;
import dev.polarscale.core.PolarException;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/** Connects to a server, and waits until it answers {@code SELECT version()}, failing fast if it exits. */
public final class Readiness {
    private static final Duration POLL = Duration.ofMillis(10);

    /** Opens a JDBC connection with a connect timeout. */
    @FunctionalInterface
    public interface Connector {
        Connection connect(Duration timeout) throws SQLException;
    }

    private Readiness() {
    }

    /** A JDBC connection as {@code user}, with connect and login timeouts, named {@code polarscale}. */
    public static Connection connect(String url, String user, String password, Duration timeout) throws SQLException {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        int secs = (int) Math.max(1, timeout.toSeconds());
        p.setProperty("connectTimeout", Integer.toString(secs));
        p.setProperty("loginTimeout", Integer.toString(secs));
        p.setProperty("socketTimeout", "300");
        p.setProperty("ApplicationName", "polarscale");
        return java.sql.DriverManager.getConnection(url, p);
    }

    /**
     * @param status  the server's state, asked every 25 tries (a server that exited fails at once)
     * @param logTail the tail of the server log, for the exception
     * @return the version string
     * @throws NodeStartupException the server exited, or did not answer in time
     */
    public static String await(String node, int port, Duration timeout, Connector connector,
                               Supplier<NodeState> status, IntFunction<String> logTail) {
        long deadline = System.nanoTime() + timeout.toNanos();
        SQLException last = null;
        int tries = 0;
        while (true) {
            try (Connection c = connector.connect(Duration.ofSeconds(2)); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT version()")) {
                rs.next();
                return rs.getString(1);
            } catch (SQLException e) {
                last = e;
            }
            if (++tries % 25 == 0 && status.get() != NodeState.RUNNING) {
                throw new NodeStartupException(node, "server exited before answering on port " + port,
                        logTail.apply(40), last);
            }
            if (System.nanoTime() > deadline) {
                throw new NodeStartupException(node, "server did not answer on port " + port + " within "
                        + timeout.toMillis() + " ms: " + last.getMessage(), logTail.apply(40), last);
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PolarException(PolarException.Reason.INTERRUPTED, node + " - interrupted while waiting", e);
            }
        }
    }
}
