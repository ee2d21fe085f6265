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
 * is rejected). It runs as the database OS user, never root.
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
     * (not {@code root}). The script is not looked for here: the installation may be on another host.
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

    /** The command {@link #initPrimary} or {@link #initReplica} runs (for logs and tests). */
    public Command command(Path localDir, SharedStorage storage, String role) {
        if (!role.equals("primary") && !role.equals("replica")) {
            throw new IllegalArgumentException("role must be primary or replica: '" + role + "'");
        }
        SafePaths.requireSafeAbsolute(localDir, "local data directory");
        return Command.of(installation.tool("polar-initdb.sh").toString(), SafePaths.withTrailingSlash(localDir),
                storage.initdbDirectory(), role, storage.initdbStorageArgument())
                .asUser(osUser).withTimeout(timeout);
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
        requireSharedExists(executor, storage, "primary", localDir);
        List<String> shared = storage.list(executor);
        if (!shared.isEmpty()) {
            throw fail(executor, "primary", localDir, "the shared directory " + storage.initdbDirectory()
                    + " is not empty (" + preview(shared) + ")");
        }
        run(executor, cmd, "primary");
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
