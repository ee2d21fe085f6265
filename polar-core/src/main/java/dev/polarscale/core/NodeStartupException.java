package dev.polarscale.core;

/**
 * A database node did not start, or started but did not answer in time
 * ({@link Reason#START_FAILED}, or {@link Reason#PORT_IN_USE} when the server log says its port
 * is taken). The message ends with the tail of the server log, which usually names the cause
 * ("Address already in use", "could not open file ... pg_control").
 */
public class NodeStartupException extends PolarException {
    private static final long serialVersionUID = 2L;

    private final String logTail;

    public NodeStartupException(String node, String message, String logTail) {
        this(node, message, logTail, null);
    }

    public NodeStartupException(String node, String message, String logTail, Throwable cause) {
        this(reasonOf(message, logTail), node, null, message, logTail, cause);
    }

    public NodeStartupException(Reason reason, String node, String host, String message, String logTail,
                                Throwable cause) {
        super(reason, node, host, null, node + " - " + message + (logTail == null || logTail.isBlank()
                ? "" : "\n--- server log (tail) ---\n" + logTail), cause);
        this.logTail = logTail == null ? "" : logTail;
    }

    /** The last lines of the server log at the time of failure (may be empty). */
    public String logTail() {
        return logTail;
    }

    private static Reason reasonOf(String message, String logTail) {
        String all = message + "\n" + (logTail == null ? "" : logTail);
        return all.contains("Address already in use") ? Reason.PORT_IN_USE : Reason.START_FAILED;
    }
}
