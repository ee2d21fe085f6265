package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.storage.internal.HostFiles;
import dev.polarscale.storage.internal.OsUsers;
import dev.polarscale.storage.internal.SafePaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Runs PolarDB 15's {@code polar-initdb.sh} and checks what it did, because its exit code does
 * not tell: with the directories swapped it prints "success", exits 0 and writes into the
 * shared directory.
 *
 * <p>The command is always
 * {@code polar-initdb.sh <local>/ <shared>/ primary|replica localfs|<pfs-cluster>}: the local
 * directory first for both roles, both paths absolute and ending in {@code /}. The local
 * directory is a {@link Path}, which has no trailing slash; exactly one {@code /} is appended
 * to it (no other rewriting: a relative, non-normalised or unsafe path, with spaces or quotes,
 * is rejected). It runs as the database OS user, except one case:
 *
 * <p><b>PFS mode, primary.</b> The script copies the initdb into PFS with {@code pfs cp}, which opens
 * the block device itself ({@code O_RDWR|O_DIRECT}); as the database user that fails with
 * {@code cp failed: Input/output error} on a root-only device. So this run is
 * {@linkplain Command#privileged() privileged}, and afterwards every file in the local directory
 * that root owns is given back to the database user ({@code chown -R -h --from=root <user>: <dir>},
 * which leaves the user's own files and symlink targets alone); the local directory must then be
 * the user's with mode 0700 and hold no root-owned file, else {@link StorageException} with
 * {@link StorageException.Reason#PERMISSION_DENIED}. The fix-up also runs when the script failed.
 * A replica's run in PFS mode stays the database user's: it only lists PFS through pfsd.
 * In PFS mode the script runs {@code /usr/local/bin/pfs}, a path written into it; where that file
 * is missing it fails ("pfs does not exist"), so this is checked first
 * ({@link StorageException.Reason#BINARIES_MISSING}).
 *
 * <ul>
 *   <li>{@link #initPrimary}: before, the local directory must hold a fresh {@code initdb}
 *       ({@code PG_VERSION}, {@code global/pg_control}, {@code postgresql.conf}, no
 *       {@code postmaster.pid}) and the shared directory must exist and be empty; after, the
 *       shared directory must hold {@code global/pg_control}.</li>
 *   <li>{@link #initReplica}: before, the local directory must exist without
 *       {@code postgresql.conf} and the shared directory must exist; after, the shared directory
 *       must have gained no entry and the local directory must hold {@code PG_VERSION}.</li>
 * </ul>
 * A broken rule is a {@link StorageException}; before the run nothing has been executed.
 *
 * <pre>{@code
 * PolarInitdb initdb = PolarInitdb.using(PgInstallation.at(Path.of("/home/polar/tmp_polardb_pg_15_base/bin")),
 *         "postgres");
 * SharedStorage storage = SharedStorage.localFileSystem(Path.of("/home/polar/shared_data"), "postgres");
 * try (CommandExecutor host = Executors.local()) {
 *     storage.prepare(host);
 *     initdb.initPrimary(host, Path.of("/home/polar/primary"), storage);    // after initdb -D .../primary
 *     initdb.initReplica(host, Path.of("/home/polar/replica1"), storage);   // an empty 0700 directory
 * }
 * }</pre>
 */
public final class PolarInitdb {
    private static final Logger LOG = LoggerFactory.getLogger(PolarInitdb.class);
    private static final Duration SHORT = Duration.ofMinutes(2);

    private final PgInstallation installation;
    private final String osUser;
    private final Duration timeout;

    private PolarInitdb(PgInstallation installation, String osUser, Duration timeout) {
        this.installation = installation;
        this.osUser = osUser;
        this.timeout = timeout;
    }

    /**
     * {@code polar-initdb.sh} from {@code installation}'s bin directory, run as {@code osUser}
     * (not {@code root}; only a primary in PFS mode runs privileged, see the class comment). The script is not looked for here: the installation may be on another host.
     */
    public static PolarInitdb using(PgInstallation installation, String osUser) {
        Objects.requireNonNull(installation, "installation");
        return new PolarInitdb(installation, OsUsers.requireDatabaseUser(osUser), Duration.ofMinutes(5));
    }

    /** The timeout of the script run; default 5 minutes. */
    public PolarInitdb withTimeout(Duration t) {
        Objects.requireNonNull(t, "timeout");
        if (t.isZero() || t.isNegative()) {
            throw new IllegalArgumentException("timeout must be positive: " + t);
        }
        return new PolarInitdb(installation, osUser, t);
    }

    /**
     * The command {@link #initPrimary} or {@link #initReplica} runs (for logs and tests): as the
     * database user, or privileged for a primary in PFS mode.
     */
    public Command command(Path localDir, SharedStorage storage, String role) {
        if (!role.equals("primary") && !role.equals("replica")) {
            throw new IllegalArgumentException("role must be primary or replica: '" + role + "'");
        }
        SafePaths.requireSafeAbsolute(localDir, "local data directory");
        Command c = Command.of(installation.tool("polar-initdb.sh").toString(), SafePaths.withTrailingSlash(localDir),
                storage.initdbDirectory(), role, storage.initdbStorageArgument()).withTimeout(timeout);
        return privileged(storage, role) ? c.privileged() : c.asUser(osUser);
    }

    private static boolean pfsMode(SharedStorage storage) {
        return !storage.configuration().localFsMode();
    }

    private static boolean privileged(SharedStorage storage, String role) {
        return pfsMode(storage) && role.equals("primary");
    }

    /** Step A6: moves the shared part of a fresh initdb in {@code localDir} to the shared storage. */
    public void initPrimary(CommandExecutor executor, Path localDir, SharedStorage storage) {
        Command cmd = command(localDir, storage, "primary");
        HostFiles local = new HostFiles(executor, osUser);
        List<String> missing = new ArrayList<>();
        for (String f : List.of("PG_VERSION", "global/pg_control", "postgresql.conf")) {
            if (!local.isFile(localDir.resolve(f))) {
                missing.add(f);
            }
        }
        if (!missing.isEmpty()) {
            throw fail(executor, "primary", localDir, "the local directory does not hold a fresh initdb (missing "
                    + String.join(", ", missing) + ")");
        }
        if (local.exists(localDir.resolve("postmaster.pid"))) {
            throw fail(executor, "primary", localDir, "the local directory has a postmaster.pid: stop the server first");
        }
        requirePfsTool(executor, storage, local, "primary", localDir);
        requireSharedExists(executor, storage, "primary", localDir);
        List<String> shared = storage.list(executor);
        if (!shared.isEmpty()) {
            throw fail(executor, "primary", localDir, "the shared directory " + storage.initdbDirectory()
                    + " is not empty (" + preview(shared) + ")");
        }
        if (cmd.isPrivileged()) {
            try {
                run(executor, cmd, "primary");
            } catch (RuntimeException e) {
                try {
                    giveBack(executor, localDir);
                } catch (RuntimeException again) {
                    e.addSuppressed(again);
                }
                throw e;
            }
            giveBack(executor, localDir);
        } else {
            run(executor, cmd, "primary");
        }
        if (!storage.containsFile(executor, "global/pg_control")) {
            throw fail(executor, "primary", localDir, "polar-initdb.sh exited 0 but the shared directory "
                    + storage.initdbDirectory() + " holds no global/pg_control");
        }
    }

    /** Step B4: creates a replica's local directory skeleton ({@code PG_VERSION} and empty directories). */
    public void initReplica(CommandExecutor executor, Path localDir, SharedStorage storage) {
        Command cmd = command(localDir, storage, "replica");
        HostFiles local = new HostFiles(executor, osUser);
        if (!local.isDirectory(localDir)) {
            throw fail(executor, "replica", localDir, "the local directory does not exist");
        }
        if (local.exists(localDir.resolve("postgresql.conf"))) {
            throw fail(executor, "replica", localDir, "the local directory already holds postgresql.conf; "
                    + "polar-initdb.sh replica needs a directory without it (copy config files afterwards)");
        }
        requirePfsTool(executor, storage, local, "replica", localDir);
        requireSharedExists(executor, storage, "replica", localDir);
        List<String> before = storage.list(executor);
        run(executor, cmd, "replica");
        List<String> gained = new ArrayList<>(storage.list(executor));
        gained.removeAll(before);
        if (!gained.isEmpty()) {
            throw fail(executor, "replica", localDir, "polar-initdb.sh exited 0 but wrote into the shared directory "
                    + storage.initdbDirectory() + " (new entries: " + preview(gained) + "), as it does when the "
                    + "directories are swapped; remove those entries from the shared directory by hand");
        }
        if (!local.isFile(localDir.resolve("PG_VERSION"))) {
            throw fail(executor, "replica", localDir, "polar-initdb.sh exited 0 but left no PG_VERSION in the "
                    + "local directory");
        }
    }

    /** The path polar-initdb.sh 15 runs {@code pfs} from in PFS mode ({@code pfs=/usr/local/bin/pfs}). */
    public static final Path SCRIPT_PFS = Path.of("/usr/local/bin/pfs");

    /**
     * What the script needs on the host besides itself, checked before anything runs: in PFS mode
     * {@link #SCRIPT_PFS}; nothing in local-file-system mode.
     *
     * @throws StorageException {@link StorageException.Reason#BINARIES_MISSING} naming the path
     */
    public void requireTools(CommandExecutor executor, SharedStorage storage, String role, Path localDir) {
        requirePfsTool(executor, storage, new HostFiles(executor, osUser), role, localDir);
    }

    private static void requirePfsTool(CommandExecutor executor, SharedStorage storage, HostFiles local, String role,
                                       Path localDir) {
        if (pfsMode(storage) && !local.isFile(SCRIPT_PFS)) {
            throw new StorageException(StorageException.Reason.BINARIES_MISSING, executor.host(), executor.host()
                    + " - polar-initdb.sh " + role + " for " + localDir + ": in PFS mode the script runs " + SCRIPT_PFS
                    + " (a path written into it), which does not exist on this host; install the PFS tools there or "
                    + "link it to the pfs binary");
        }
    }

    /**
     * After a privileged run: root's files in the local directory become the database user's, then
     * the directory is checked (owner, mode 0700, no root-owned file left).
     */
    private void giveBack(CommandExecutor executor, Path localDir) {
        executor.run(Command.of("chown", "-R", "-h", "--from=root", osUser + ":", localDir.toString())
                .withTimeout(SHORT).privileged());
        String got = executor.run(Command.of("stat", "-c", "%U:%a", localDir.toString())
                .withTimeout(SHORT).privileged()).stdout().strip();
        String rootOwned = executor.run(Command.of("find", localDir.toString(), "-user", "root", "-print", "-quit")
                .withTimeout(SHORT).privileged()).stdout().strip();
        if (!got.equals(osUser + ":700") || !rootOwned.isEmpty()) {
            throw new StorageException(StorageException.Reason.PERMISSION_DENIED, executor.host(), executor.host()
                    + " - polar-initdb.sh primary for " + localDir + " ran as root: the local directory should be "
                    + osUser + "'s with mode 700 and hold no root-owned file, but it is " + got + " (owner:mode)"
                    + (rootOwned.isEmpty() ? "" : " and " + rootOwned + " belongs to root"));
        }
        LOG.info("{} - {} belongs to {} again (mode 700) after the privileged polar-initdb.sh", executor.host(),
                localDir, osUser);
    }

    private void requireSharedExists(CommandExecutor executor, SharedStorage storage, String role, Path localDir) {
        if (!storage.exists(executor)) {
            throw fail(executor, role, localDir, "the shared directory " + storage.initdbDirectory()
                    + " does not exist (SharedStorage.prepare creates it)");
        }
    }

    private void run(CommandExecutor executor, Command cmd, String role) {
        long start = System.nanoTime();
        executor.run(cmd);
        LOG.info("{} - polar-initdb.sh {} ran in {} ms: {}", executor.host(), role,
                Duration.ofNanos(System.nanoTime() - start).toMillis(), cmd);
    }

    private static StorageException fail(CommandExecutor executor, String role, Path localDir, String why) {
        return new StorageException(StorageException.Reason.STORAGE_INVALID, executor.host(), executor.host() + " - polar-initdb.sh " + role + " for " + localDir + ": " + why);
    }

    private static String preview(List<String> names) {
        return names.size() <= 10 ? String.join(", ", names)
                : String.join(", ", names.subList(0, 10)) + ", ... " + names.size() + " in all";
    }
}
