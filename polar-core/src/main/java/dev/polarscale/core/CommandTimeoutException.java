package dev.polarscale.core;

import java.time.Duration;
import java.util.List;

/**
 * A command ran longer than its timeout and was killed together with every process it started.
 * Its reason is {@link Reason#TIMEOUT}.
 */
public class CommandTimeoutException extends PolarException {
    private static final long serialVersionUID = 2L;

    private final List<String> redactedArgv;
    private final Duration timeout;

    public CommandTimeoutException(String host, List<String> redactedArgv, Duration timeout, String message) {
        this(host, redactedArgv, timeout, message, null);
    }

    public CommandTimeoutException(String host, List<String> redactedArgv, Duration timeout, String message,
                                   Throwable cause) {
        super(Reason.TIMEOUT, null, host, null, message, cause);
        this.redactedArgv = List.copyOf(redactedArgv);
        this.timeout = timeout;
    }

    /** The argument list, secrets replaced by {@code ******}. */
    public List<String> redactedArgv() {
        return redactedArgv;
    }

    public Duration timeout() {
        return timeout;
    }
}
