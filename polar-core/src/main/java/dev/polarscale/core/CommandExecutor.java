package dev.polarscale.core;

/**
 * Runs {@link Command}s somewhere: on this machine, over SSH, or inside a container. The one
 * extension point between PolarScale and the hosts it manages.
 *
 * <pre>{@code
 * try (CommandExecutor local = Executors.local()) {
 *     CommandResult r = local.run(Command.of("uname", "-r"));
 *     System.out.println(r.stdout());
 * }
 * }</pre>
 *
 * <p>Implementations are thread-safe. A timeout kills the command and every process it
 * started, then throws {@link CommandTimeoutException}.
 */
public interface CommandExecutor extends AutoCloseable {

    /** A name for the host commands run on, used in logs and exception messages. */
    String host();

    /**
     * Runs the command and returns its result whatever the exit code.
     *
     * @throws CommandTimeoutException the command outlived its timeout and was killed
     * @throws PolarException          the command could not be started at all
     */
    CommandResult execute(Command command);

    /**
     * Runs the command and requires exit code 0.
     *
     * @throws CommandFailedException a non-zero exit, with the redacted argv and the stderr tail
     */
    default CommandResult run(Command command) {
        CommandResult result = execute(command);
        if (!result.succeeded()) {
            throw new CommandFailedException(host(), command.redactedArgv(), command.redact(result),
                    host() + " - command failed with exit code " + result.exitCode() + ": " + command
                            + tailOrEmpty(command, result));
        }
        return result;
    }

    /** Releases connections; the default does nothing. */
    @Override
    default void close() {
    }

    private static String tailOrEmpty(Command command, CommandResult result) {
        String tail = result.stderrTail(20);
        if (tail.isBlank()) {
            tail = CommandResult.tail(result.stdout(), 20);
        }
        return tail.isBlank() ? "" : "\n" + command.redact(tail);
    }
}
