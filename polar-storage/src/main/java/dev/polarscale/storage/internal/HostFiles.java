package dev.polarscale.storage.internal;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.storage.StorageException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * File checks on a host through its {@link CommandExecutor} ({@code test}, {@code ls -A},
 * {@code install}, {@code stat}), so they work the same over SSH as on this machine. Every
 * command runs as the given OS user; a {@code null} user means "as the executor is".
 */
public final class HostFiles {
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final CommandExecutor executor;
    private final String osUser;

    public HostFiles(CommandExecutor executor, String osUser) {
        this.executor = executor;
        this.osUser = osUser;
    }

    private Command cmd(String... argv) {
        Command c = Command.of(List.of(argv)).withTimeout(TIMEOUT);
        return osUser == null ? c : c.asUser(osUser);
    }

    public boolean isFile(Path p) {
        return test("-f", p);
    }

    public boolean isDirectory(Path p) {
        return test("-d", p);
    }

    public boolean exists(Path p) {
        return test("-e", p);
    }

    private boolean test(String op, Path p) {
        CommandResult r = executor.execute(cmd("test", op, p.toString()));
        if (r.exitCode() == 0) {
            return true;
        }
        if (r.exitCode() == 1) {
            return false;
        }
        throw new StorageException(StorageException.Reason.COMMAND_FAILED, executor.host(), executor.host() + " - cannot check " + p + " (test " + op + " exited "
                + r.exitCode() + "): " + r.stderrTail(5));
    }

    /** The names in a directory, hidden ones included, sorted by {@code ls}. */
    public List<String> list(Path dir) {
        CommandResult r = executor.execute(cmd("ls", "-A", "-1", "--", dir.toString()));
        if (!r.succeeded()) {
            throw new StorageException(StorageException.Reason.COMMAND_FAILED, executor.host(), executor.host() + " - cannot list " + dir + " (ls exited " + r.exitCode()
                    + "): " + r.stderrTail(5).strip());
        }
        List<String> out = new ArrayList<>();
        for (String line : r.stdout().split("\n")) {
            if (!line.isEmpty()) {
                out.add(line);
            }
        }
        return List.copyOf(out);
    }

    /** Whether the executor runs as root ({@code id -u} prints 0). */
    public static boolean isRoot(CommandExecutor executor) {
        CommandResult r = executor.run(Command.of("id", "-u").withTimeout(TIMEOUT));
        return r.stdout().strip().equals("0");
    }

    /**
     * Makes {@code dir} exist, owned by {@code owner} with mode 0700, idempotently, and checks the
     * result with {@code stat}. As root: {@code install -d -m 0700 -o owner -g <owner's group>}
     * (missing parents are created 0755, root-owned). Otherwise: {@code mkdir -p} and
     * {@code chmod 0700} as {@code owner}, which needs a parent {@code owner} may write to.
     */
    public static void ensurePrivateDirectory(CommandExecutor executor, Path dir, String owner) {
        if (isRoot(executor)) {
            String group = executor.run(Command.of("id", "-gn", owner).withTimeout(TIMEOUT)).stdout().strip();
            executor.run(Command.of("install", "-d", "-m", "0700", "-o", owner, "-g", group, dir.toString())
                    .withTimeout(TIMEOUT));
        } else {
            executor.run(Command.of("mkdir", "-p", dir.toString()).withTimeout(TIMEOUT).asUser(owner));
            executor.run(Command.of("chmod", "0700", dir.toString()).withTimeout(TIMEOUT).asUser(owner));
        }
        String got = executor.run(Command.of("stat", "-c", "%U:%a", dir.toString()).withTimeout(TIMEOUT))
                .stdout().strip();
        if (!got.equals(owner + ":700")) {
            throw new StorageException(StorageException.Reason.PERMISSION_DENIED, executor.host(), executor.host() + " - directory " + dir + " should be owned by " + owner
                    + " with mode 700 but is " + got + " (owner:mode)");
        }
    }
}
