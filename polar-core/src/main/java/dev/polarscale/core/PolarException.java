package dev.polarscale.core;

import java.sql.SQLException;
import java.util.Objects;
import java.util.Optional;

/**
 * Root of every exception PolarScale throws because of what the environment did: a host, a
 * server, a device or the cluster's state. Unchecked, like HikariCP's: callers catch the type or
 * test the {@link #reason()} they can act on and let the rest travel. Caller mistakes (a bad
 * name, a path that is not absolute, a call that needs a PolarDB cluster on a plain one) are
 * {@link IllegalArgumentException} / {@link IllegalStateException} instead, thrown before
 * anything has been done.
 *
 * <pre>{@code
 * try {
 *     scaler.addStandby(node);
 * } catch (PolarException e) {
 *     switch (e.reason()) {
 *         case PORT_IN_USE -> retryWith(node.port().value() + 1);
 *         case LOCK_TIMEOUT -> retryLater();
 *         default -> alert(e.reason(), e.node().orElse("?"), e.host().orElse("?"), e.getMessage());
 *     }
 * }
 * }</pre>
 *
 * <p>Every exception carries a stable {@link Reason}, the node and host it concerns where known,
 * and the SQLSTATE only when a server sent one (never a code made up on the client side). All
 * of it survives Java serialisation. Messages name the node, the step and the bad value; they
 * are part of the API.
 */
public class PolarException extends RuntimeException {
    private static final long serialVersionUID = 2L;

    /** What went wrong, in a form a program can switch on. Values are only ever added. */
    public enum Reason {
        // ---- hosts and commands
        /** A host could not be reached (TCP connect or SSH handshake failed or timed out). */
        HOST_UNREACHABLE,
        /** An SSH host key is not in known_hosts, or differs from the one recorded there. */
        HOST_KEY_REJECTED,
        /** Credentials were refused: an SSH login, or a database or replication password. */
        AUTH_FAILED,
        /** A connection broke while a command or statement ran. */
        CONNECTION_LOST,
        /** A command ran and exited with a non-zero code. */
        COMMAND_FAILED,
        /** A command or a wait outlived its deadline. */
        TIMEOUT,
        /** The calling thread was interrupted. */
        INTERRUPTED,
        /** Server programs are missing on a host (no PostgreSQL, no PolarDB, no pg_basebackup). */
        BINARIES_MISSING,
        /** The OS refused an action for lack of permission, or a needed OS user is missing. */
        PERMISSION_DENIED,
        // ---- nodes and the cluster
        /** Something already listens on the node's port. */
        PORT_IN_USE,
        /** The node's data directory exists and is not empty. */
        DIRECTORY_NOT_EMPTY,
        /** The data directory already holds a database cluster. */
        DATA_DIRECTORY_EXISTS,
        /** A node of that name (or on that host and port, or with that directory) is registered. */
        NODE_EXISTS,
        /** No node of that name is registered. */
        NODE_NOT_FOUND,
        /** The PolarDB {@code polar_hostid} is held by another node. */
        HOST_ID_TAKEN,
        /** A replication slot of that name exists and belongs to no node of this cluster. */
        SLOT_EXISTS,
        /** A replication slot is in use by a walsender (a server still streams through it). */
        SLOT_ACTIVE,
        /** The primary has no free walsender or replication slot for another follower. */
        NO_FREE_SLOT,
        /** The server PolarScale expected to be a writable primary is not one. */
        NOT_A_PRIMARY,
        /** A database server did not answer. */
        SERVER_UNREACHABLE,
        /** Another scaling operation holds the cluster lock. */
        LOCK_TIMEOUT,
        /** A server did not start, or started but did not answer. */
        START_FAILED,
        /** A follower came up writable: a second writer, stopped at once. */
        WRITABLE_FOLLOWER,
        /** A follower did not stream from the primary in time. */
        NOT_STREAMING,
        /** A follower did not show a row committed on the primary in time. */
        STALE_DATA,
        /** An interrupted operation found in the journal could not be finished or undone. */
        INTERRUPTED_OPERATION,
        /** A server answered a statement with an error (see {@link #sqlState()}). */
        SQL_ERROR,
        /**
         * The cluster is not managed by PolarScale: it has no membership (it was not made by
         * {@code deployPrimary}), so it must be adopted first ({@code ClusterScaler.adopt}).
         */
        NOT_ADOPTED,
        /**
         * The cluster's membership is not what a plan started from (another scaler added or removed
         * a node in between): nothing of the planned change was done; plan again.
         */
        MEMBERSHIP_CHANGED,
        // ---- storage
        /** A device cannot carry shared storage (kind, size, mounted, read-only, missing). */
        DEVICE_UNSUITABLE,
        /** A device holds a file system (PFS or another) and formatting it was not forced. */
        DEVICE_NOT_EMPTY,
        /** The state of a device could not be established, so nothing destructive ran. */
        DEVICE_STATE_UNKNOWN,
        /** Shared storage, or a data directory's initialisation on it, is not as it must be. */
        STORAGE_INVALID,
        /**
         * A device holds no file system at all (no PFS, no other signature): it must be formatted
         * once, on purpose, before it can carry a cluster; PolarScale never does that implicitly.
         */
        DEVICE_NOT_FORMATTED,
        /** Anything else; the message says what. */
        OTHER
    }

    private final Reason reason;
    private final String node;
    private final String host;
    private final String sqlState;

    /** An exception of reason {@link Reason#OTHER}. */
    public PolarException(String message) {
        this(Reason.OTHER, null, null, null, message, null);
    }

    /** An exception of reason {@link Reason#OTHER}. */
    public PolarException(String message, Throwable cause) {
        this(Reason.OTHER, null, null, null, message, cause);
    }

    public PolarException(Reason reason, String message) {
        this(reason, null, null, null, message, null);
    }

    public PolarException(Reason reason, String message, Throwable cause) {
        this(reason, null, null, null, message, cause);
    }

    /**
     * @param reason   what went wrong
     * @param node     the node concerned, or {@code null}
     * @param host     the host concerned, or {@code null}
     * @param sqlState the SQLSTATE a server sent, or {@code null}; use {@link #serverSqlState}
     * @param message  the message, naming node, step and value
     * @param cause    the cause, or {@code null}
     */
    public PolarException(Reason reason, String node, String host, String sqlState, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.node = node;
        this.host = host;
        this.sqlState = sqlState;
    }

    /** What went wrong; stable across versions. */
    public Reason reason() {
        return reason;
    }

    /** The node concerned, where known. */
    public Optional<String> node() {
        return Optional.ofNullable(node);
    }

    /** The host concerned (an executor's host name), where known. */
    public Optional<String> host() {
        return Optional.ofNullable(host);
    }

    /** The SQLSTATE the server sent; empty when no server error is behind this exception. */
    public Optional<String> sqlState() {
        return Optional.ofNullable(sqlState);
    }

    /**
     * The SQLSTATE of {@code e} if a server sent it; {@code null} for the codes the JDBC driver
     * makes up itself (a refused connection, a closed socket).
     */
    public static String serverSqlState(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.postgresql.util.PSQLException p && p.getServerErrorMessage() != null) {
                return p.getServerErrorMessage().getSQLState();
            }
        }
        return null;
    }

    /**
     * The reason that fits a failed JDBC call: {@link Reason#AUTH_FAILED} for a refused password
     * or {@code pg_hba.conf} rule, {@link Reason#SERVER_UNREACHABLE} for a connection that could not
     * be made, {@link Reason#CONNECTION_LOST} for one that broke, else {@link Reason#SQL_ERROR}.
     */
    public static Reason reasonOf(SQLException e) {
        String server = serverSqlState(e);
        if (server != null) {
            if (server.equals("28P01") || server.equals("28000")) {
                return Reason.AUTH_FAILED;
            }
            if (server.equals("57P03")) {
                return Reason.SERVER_UNREACHABLE; // the database system is starting up / shutting down
            }
            if (server.equals("57P01") || server.equals("57P02")) {
                return Reason.CONNECTION_LOST; // terminated by the administrator / crash of another backend
            }
            if (server.equals("55P03")) {
                return Reason.LOCK_TIMEOUT;
            }
            return Reason.SQL_ERROR;
        }
        String state = e.getSQLState();
        if (state != null && (state.equals("08001") || state.equals("08004"))) {
            return Reason.SERVER_UNREACHABLE;
        }
        if (state != null && state.startsWith("08")) {
            return Reason.CONNECTION_LOST;
        }
        return Reason.SQL_ERROR;
    }
}
