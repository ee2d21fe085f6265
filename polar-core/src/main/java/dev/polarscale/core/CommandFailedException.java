package dev.polarscale.core;

import java.util.List;

/**
 * A command ran and exited with a non-zero code. Carries the {@link CommandResult} and the
 * argument list with every secret masked.
 */
public class CommandFailedException extends PolarException {
    private static final long serialVersionUID = 1L;

    private final String host;
    private final List<String> redactedArgv;
    private final transient CommandResult result;

    public CommandFailedException(String host, List<String> redactedArgv, CommandResult result, String message) {
        super(message);
        this.host = host;
        this.redactedArgv = List.copyOf(redactedArgv);
        this.result = result;
    }

    /** The host (executor name) the command ran on. */
    public String host() {
        return host;
    }

    /** The argument list, secrets replaced by {@code ******}. */
    public List<String> redactedArgv() {
        return redactedArgv;
    }

    /** The full result; its output may contain what the command printed about secrets. */
    public CommandResult result() {
        return result;
    }

    public int exitCode() {
        return result.exitCode();
    }
}
