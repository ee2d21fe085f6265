package dev.polarscale.replication;

import dev.polarscale.core.PolarException;

import java.sql.SQLException;

/**
 * A scaling or replication step failed because of the cluster or a server: the port or the
 * name is taken ({@link Reason#PORT_IN_USE}, {@link Reason#NODE_EXISTS}), a slot is in use
 * ({@link Reason#SLOT_ACTIVE}), the primary refused a statement ({@link Reason#SQL_ERROR}, with
 * the server's {@link #sqlState()}), a node did not stream in time ({@link Reason#NOT_STREAMING}).
 * Nothing is half-done when it reaches the caller: a failed add has been undone.
 */
public class ReplicationException extends PolarException {
    private static final long serialVersionUID = 2L;

    public ReplicationException(Reason reason, String node, String message) {
        super(reason, node, null, null, message, null);
    }

    public ReplicationException(Reason reason, String node, String host, String message, Throwable cause) {
        super(reason, node, host, sqlStateOf(cause), message, cause);
    }

    private static String sqlStateOf(Throwable cause) {
        if (cause instanceof SQLException e) {
            return serverSqlState(e);
        }
        return cause instanceof PolarException p ? p.sqlState().orElse(null) : null;
    }

    /**
     * A failed JDBC call: the reason from the SQLSTATE ({@link PolarException#reasonOf}) and the
     * server's SQLSTATE when it sent one.
     *
     * @param node the node the statement concerned (for the message prefix)
     * @param what what was being done, e.g. {@code "create slot replica1"}
     */
    public static ReplicationException of(String node, String what, SQLException e) {
        String state = serverSqlState(e);
        return new ReplicationException(reasonOf(e), node, null, node + " - cannot " + what + ": " + e.getMessage()
                + (state == null ? "" : " (SQLSTATE " + state + ")"), e);
    }
}
