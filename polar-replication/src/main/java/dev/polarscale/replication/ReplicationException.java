package dev.polarscale.replication;

import dev.polarscale.core.PolarException;

/**
 * A replication step failed on the server: a slot could not be created or dropped, a node
 * did not start streaming in time. Carries the SQLSTATE when the server sent one.
 */
public class ReplicationException extends PolarException {
    private static final long serialVersionUID = 1L;

    private final String sqlState;

    public ReplicationException(String message, String sqlState, Throwable cause) {
        super(message, cause);
        this.sqlState = sqlState;
    }

    public ReplicationException(String message) {
        this(message, null, null);
    }

    /** The server's SQLSTATE, or {@code null} when the failure was not an SQL error. */
    public String sqlState() {
        return sqlState;
    }
}
