package dev.polarscale.core;

import java.time.Duration;
import java.util.List;

/** A command ran longer than its timeout and was killed together with every process it started. */
public class CommandTimeoutException extends PolarException {
    private static final long serialVersionUID = 1L;

    private final String host;
    private final List<String> redactedArgv;
    private final Duration timeout;

    public CommandTimeoutException(String host, List<String> redactedArgv, Duration timeout, String message) {
        super(message);
        this.host = host;
        this.redactedArgv = List.copyOf(redactedArgv);
        this.timeout = timeout;
    }

    public String host() {
        return host;
    }

    public List<String> redactedArgv() {
        return redactedArgv;
    }

    public Duration timeout() {
        return timeout;
    }
}
