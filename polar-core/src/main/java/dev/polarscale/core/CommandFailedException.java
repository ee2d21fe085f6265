package dev.polarscale.core;

import java.util.List;

/**
 * A command ran and exited with a non-zero code ({@link Reason#COMMAND_FAILED}). Carries the
 * {@link CommandResult} and the argument list, both with every secret of the command masked,
 * so the exception can be logged or serialised as it is.
 */
public class CommandFailedException extends PolarException {
    private static final long serialVersionUID = 2L;

    private final List<String> redactedArgv;
    private final CommandResult result;

    /**
     * @param result the result; its output should already have the command's secrets masked
     *               ({@link Command#redact(CommandResult)})
     */
    public CommandFailedException(String host, List<String> redactedArgv, CommandResult result, String message) {
        this(Reason.COMMAND_FAILED, null, host, redactedArgv, result, message);
    }

    /** A failed command that means more than "a command failed", e.g. {@link Reason#START_FAILED}. */
    public CommandFailedException(Reason reason, String node, String host, List<String> redactedArgv,
                                  CommandResult result, String message) {
        super(reason, node, host, null, message, null);
        this.redactedArgv = List.copyOf(redactedArgv);
        this.result = java.util.Objects.requireNonNull(result, "result");
    }

    /** The argument list, secrets replaced by {@code ******}. */
    public List<String> redactedArgv() {
        return redactedArgv;
    }

    /** The result: exit code, output (secrets masked) and duration. */
    public CommandResult result() {
        return result;
    }

    public int exitCode() {
        return result.exitCode();
    }
}
