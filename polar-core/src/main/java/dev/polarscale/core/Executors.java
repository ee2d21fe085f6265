package dev.polarscale.core;

import dev.polarscale.core.internal.exec.LocalCommandExecutor;

/**
 * Factories for the built-in {@link CommandExecutor}s.
 *
 * <pre>{@code
 * CommandExecutor here = Executors.local();
 * here.run(Command.of("initdb", "-D", "/var/lib/polar/primary").asUser("postgres"));
 * }</pre>
 */
public final class Executors {
    private Executors() {
    }

    /** Runs commands on this machine as the JVM's user (switching user per command when asked). */
    public static CommandExecutor local() {
        return new LocalCommandExecutor("localhost");
    }
}
