package dev.polarscale.core;

/**
 * A database node did not start, or started but did not answer in time. The message ends with
 * the tail of the server log, which usually names the cause ("Address already in use", "could
 * not open file ... pg_control").
 */
public class NodeStartupException extends PolarException {
    private static final long serialVersionUID = 1L;

    private final String node;
    private final String logTail;

    public NodeStartupException(String node, String message, String logTail) {
        this(node, message, logTail, null);
    }

    public NodeStartupException(String node, String message, String logTail, Throwable cause) {
        super(node + " - " + message + (logTail == null || logTail.isBlank()
                ? "" : "\n--- server log (tail) ---\n" + logTail), cause);
        this.node = node;
        this.logTail = logTail == null ? "" : logTail;
    }

    public String node() {
        return node;
    }

    /** The last lines of the server log at the time of failure (may be empty). */
    public String logTail() {
        return logTail;
    }
}
