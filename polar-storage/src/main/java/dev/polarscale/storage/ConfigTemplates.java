package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.storage.internal.HostFiles;
import dev.polarscale.storage.internal.OsUsers;
import dev.polarscale.storage.internal.SafePaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration files a replica needs ({@code postgresql.conf}, {@code pg_hba.conf},
 * {@code pg_ident.conf}; {@code polar-initdb.sh replica} leaves none), from one cached
 * {@code initdb} per host and binaries version instead of a throw-away {@code initdb} per
 * replica (step B5: in PolarDB that initdb writes a 1 GiB WAL file and is most of a replica
 * add's time).
 *
 * <p>The template lives in {@code <cacheDir>/<key>}, where the key is the server version plus a
 * hash of {@code postgres --version} and the bin directory ({@code pg15.18-1a2b3c4d5e6f}). It is
 * built once: {@code initdb -D <cacheDir>/<key>.tmp-<random>/pgdata -U postgres --no-sync}, the
 * three files copied up, {@code pgdata} removed, then {@code mv -T} to the final name. The
 * rename is atomic and fails onto an existing non-empty directory, so two processes racing
 * both run initdb once, one rename wins and the loser uses the winner's template: the final
 * directory is never seen half-written. Everything runs through the executor as the database
 * OS user; {@code cacheDir} is created 0700 for that user (and its parents must let it through).
 *
 * <pre>{@code
 * try (CommandExecutor host = Executors.local()) {
 *     ConfigTemplates templates = ConfigTemplates.forHost(host,
 *             PgInstallation.at(Path.of("/usr/lib/postgresql/15/bin")),
 *             Path.of("/var/cache/polarscale"), "postgres");
 *     templates.copyConfigFilesTo(Path.of("/home/polar/replica1"));   // initdb only the first time
 * }
 * }</pre>
 */
public final class ConfigTemplates {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigTemplates.class);
    private static final List<String> FILES = List.of("postgresql.conf", "pg_hba.conf", "pg_ident.conf");
    private static final Pattern VERSION = Pattern.compile("\\d+(\\.\\d+)*");
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final Duration INITDB_TIMEOUT = Duration.ofMinutes(5);

    private final CommandExecutor executor;
    private final PgInstallation installation;
    private final Path cacheDir;
    private final String osUser;
    private volatile String key;

    private ConfigTemplates(CommandExecutor executor, PgInstallation installation, Path cacheDir, String osUser) {
        this.executor = executor;
        this.installation = installation;
        this.cacheDir = cacheDir;
        this.osUser = osUser;
    }

    /** The templates of the binaries in {@code installation} on {@code executor}'s host, cached in {@code cacheDir}. */
    public static ConfigTemplates forHost(CommandExecutor executor, PgInstallation installation, Path cacheDir,
                                          String osUser) {
        Objects.requireNonNull(executor, "executor");
        Objects.requireNonNull(installation, "installation");
        return new ConfigTemplates(executor, installation, SafePaths.requireSafeAbsolute(cacheDir, "template cache directory"),
                OsUsers.requireDatabaseUser(osUser));
    }

    /** The cache key from {@code postgres --version} (run once per instance). */
    public String versionKey() {
        String k = key;
        if (k == null) {
            String out = executor.run(Command.of(installation.tool("postgres").toString(), "--version")
                    .withTimeout(SHORT)).stdout().strip();
            k = keyFor(out, installation.binDir());
            key = k;
        }
        return k;
    }

    /** {@code pg<version>-<12 hex of SHA-256(binDir, version output)>}. */
    static String keyFor(String versionOutput, Path binDir) {
        Matcher m = VERSION.matcher(versionOutput);
        String v = m.find() ? m.group() : "unknown";
        try {
            byte[] h = MessageDigest.getInstance("SHA-256")
                    .digest((binDir + "\n" + versionOutput).getBytes(StandardCharsets.UTF_8));
            return "pg" + v + "-" + HexFormat.of().formatHex(h).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** The template directory, holding the three config files; built on the first call per host and version. */
    public Path templateDir() {
        Path dir = cacheDir.resolve(versionKey());
        HostFiles files = new HostFiles(executor, osUser);
        if (isComplete(files, dir)) {
            LOG.debug("{} - reusing config template {}", executor.host(), dir);
            return dir;
        }
        long start = System.nanoTime();
        HostFiles.ensurePrivateDirectory(executor, cacheDir, osUser);
        byte[] rnd = new byte[6];
        new SecureRandom().nextBytes(rnd);
        Path tmp = cacheDir.resolve(dir.getFileName() + ".tmp-" + HexFormat.of().formatHex(rnd));
        Path pgdata = tmp.resolve("pgdata");
        try {
            asUser("mkdir", "-m", "0700", tmp.toString());
            // The template's pg_hba.conf must not carry initdb's default trust rules, and initdb
            // wants a superuser password for that; this one dies with the throw-away cluster.
            byte[] pw = new byte[18];
            new SecureRandom().nextBytes(pw);
            String password = HexFormat.of().formatHex(pw);
            Path pwfile = tmp.resolve("pw");
            executor.run(Command.of("sh", "-c", "umask 077 && cat > \"$1\"", "sh", pwfile.toString())
                    .withStdin(password + "\n").withSecret(password).asUser(osUser).withTimeout(SHORT));
            executor.run(Command.of(installation.tool("initdb").toString(), "-D", pgdata.toString(),
                    "-U", "postgres", "--pwfile=" + pwfile, "--auth-local=peer", "--auth-host=scram-sha-256",
                    "--no-sync").asUser(osUser).withTimeout(INITDB_TIMEOUT)
                    .withWorkingDirectory(cacheDir));
            for (String f : FILES) {
                asUser("cp", "--", pgdata.resolve(f).toString(), tmp.resolve(f).toString());
            }
            asUser("rm", "-rf", "--", pgdata.toString(), pwfile.toString());
            CommandResult mv = executor.execute(Command.of("mv", "-T", "--", tmp.toString(), dir.toString())
                    .asUser(osUser).withTimeout(SHORT));
            if (!mv.succeeded()) {
                if (isComplete(files, dir)) {
                    LOG.info("{} - another process built config template {} first; using it", executor.host(), dir);
                    return dir;
                }
                throw new StorageException(StorageException.Reason.COMMAND_FAILED, executor.host(), executor.host() + " - cannot move config template into place at " + dir
                        + " (mv exited " + mv.exitCode() + "): " + mv.stderrTail(3).strip());
            }
        } finally {
            executor.execute(Command.of("rm", "-rf", "--", tmp.toString()).asUser(osUser).withTimeout(SHORT));
        }
        LOG.info("{} - built config template {} with initdb in {} ms", executor.host(), dir,
                Duration.ofNanos(System.nanoTime() - start).toMillis());
        return dir;
    }

    /**
     * Copies {@code postgresql.conf}, {@code pg_hba.conf} and {@code pg_ident.conf} from the
     * template into {@code replicaDir} (which must exist), replacing any files of those names.
     */
    public void copyConfigFilesTo(Path replicaDir) {
        SafePaths.requireSafeAbsolute(replicaDir, "replica directory");
        HostFiles files = new HostFiles(executor, osUser);
        if (!files.isDirectory(replicaDir)) {
            throw new StorageException(StorageException.Reason.STORAGE_INVALID, executor.host(), executor.host() + " - cannot copy config files: " + replicaDir
                    + " is not a directory");
        }
        Path dir = templateDir();
        long start = System.nanoTime();
        for (String f : FILES) {
            asUser("cp", "--", dir.resolve(f).toString(), replicaDir.resolve(f).toString());
        }
        LOG.info("{} - copied {} from template {} to {} in {} ms", executor.host(), FILES, dir, replicaDir,
                Duration.ofNanos(System.nanoTime() - start).toMillis());
    }

    private boolean isComplete(HostFiles files, Path dir) {
        for (String f : FILES) {
            if (!files.isFile(dir.resolve(f))) {
                return false;
            }
        }
        return true;
    }

    private void asUser(String... argv) {
        executor.run(Command.of(List.of(argv)).asUser(osUser).withTimeout(SHORT));
    }
}
