package dev.polarscale.core;

import dev.polarscale.core.internal.container.ContainerCommandExecutor;
import dev.polarscale.core.internal.exec.LocalCommandExecutor;
import dev.polarscale.core.internal.ssh.SshCommandExecutor;

import java.util.Objects;
import java.util.Set;

/**
 * Factories for the built-in {@link CommandExecutor}s.
 *
 * <pre>{@code
 * CommandExecutor here = Executors.local();
 * here.run(Command.of("initdb", "-D", "/var/lib/polar/primary").asUser("postgres"));
 *
 * try (CommandExecutor db2 = Executors.ssh(SshTarget.builder().host("db2").user("polar")
 *              .privateKeyFile(Path.of("/etc/polarscale/id_ed25519")).build());
 *      CommandExecutor pg = Executors.container(db2, ContainerTarget.docker("polar-replica1").build())) {
 *     pg.run(Command.of("pg_ctl", "-D", "/data", "promote").asUser("postgres"));
 * }
 * }</pre>
 */
public final class Executors {
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "::1");

    private Executors() {
    }

    /**
     * Whether {@code host} names this machine over loopback ({@code 127.0.0.1}, {@code localhost},
     * {@code ::1}), where {@link #local()} runs its commands: a cluster's primary there needs no
     * executor registered, and this machine's connections to it need no {@code pg_hba.conf} rule.
     */
    public static boolean isLoopback(String host) {
        return LOOPBACK.contains(host);
    }

    /**
     * Runs commands on this machine as the JVM's user (switching user per command when asked). A
     * command inherits the JVM's environment except libpq's connection variables
     * ({@code PGPASSWORD}, {@code PGPASSFILE}, {@code PGHOST}, {@code PGSSLMODE}, ...): a value
     * exported for {@code psql} must not change how a server or a base backup started here
     * connects. Set one on the command ({@link Command#withEnv}) to pass it.
     */
    public static CommandExecutor local() {
        return new LocalCommandExecutor("localhost");
    }

    /**
     * Runs commands on a remote host over one reused SSH session (connected on first use,
     * reconnected when it dropped). The server must run a POSIX login shell: the argv is sent
     * as one string with every argument single-quoted. The command's environment is sent as
     * {@code env K=V ...} in that string (sshd drops most {@code env} requests), so it is
     * visible to the remote {@code ps}. A working directory is entered as the login user before
     * any user switch, as the local executor does.
     *
     * <p>On timeout the executor asks the server to SIGKILL the command (the SSH "signal"
     * request), closes the channel, and SIGKILLs the command's process group through a second
     * channel (OpenSSH ignores the signal request for root logins), then throws
     * {@link CommandTimeoutException}. Children that left the process group (daemons that called
     * {@code setsid}) are not killed. Close the executor to close the connection.
     *
     * @throws SshException from {@code execute}: cannot connect, host key rejected, login
     *                      refused, or the connection dropped mid-command
     */
    public static CommandExecutor ssh(SshTarget target) {
        Objects.requireNonNull(target, "target");
        return new SshCommandExecutor(target, target.password(), target.keyPassphrase());
    }

    /**
     * Runs commands inside a container or pod by running {@code docker}/{@code podman}/{@code kubectl
     * exec} through {@code via} (local or SSH). See {@link ContainerTarget} for the translation.
     * Closing the returned executor does not close {@code via}.
     */
    public static CommandExecutor container(CommandExecutor via, ContainerTarget target) {
        return new ContainerCommandExecutor(via, target);
    }
}
