package dev.polarscale.replication.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;
import dev.polarscale.core.FreePorts;
import dev.polarscale.core.OsUsers;
import dev.polarscale.core.PgBinaries;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.storage.PfsSharedStorage;
import dev.polarscale.replication.ScaleListener;
import dev.polarscale.storage.SharedStorage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What {@code LocalCluster} owns on this machine besides its scaler: the base directory, free
 * ports, the data sources it hands out, and the teardown that stops and deletes every node.
 */
public final class LocalResources {
    private LocalResources() {
    }

    /** The base directory and whether the cluster created it (and so deletes it). */
    public record Base(Path path, boolean owned) {
    }

    /** What a {@code LocalCluster.Builder} was given, frozen when the cluster is built. */
    public record Settings(int standbys, boolean polarDb, Optional<Path> baseDirectory,
                           Optional<PgInstallation> installation, ScaleListener listener, Duration verifyTimeout,
                           Path templateCache, boolean fsync, boolean tmpfs, Optional<PfsSharedStorage> pfs) {
    }

    /** Free space {@code /dev/shm} must have to hold a local cluster's default base directory. */
    static final long TMPFS_MIN_FREE = 4L << 30;

    /**
     * A fresh temporary directory (in {@code /dev/shm} where {@link Settings#tmpfs()} allows and
     * it qualifies, see {@code LocalCluster.Builder.tmpfs}), the requested one created, or the
     * requested one if it is empty. One the cluster creates gets mode 0711: the server OS user must
     * traverse it, not list it.
     */
    public static Base prepareBase(Settings settings) {
        Optional<Path> requested = settings.baseDirectory();
        try {
            if (requested.isEmpty() || Files.notExists(requested.get())) {
                Optional<Path> shm = settings.tmpfs() && !settings.polarDb() ? memoryBacked() : Optional.empty();
                Path b = requested.isPresent() ? Files.createDirectories(requested.get())
                        : shm.isPresent() ? Files.createTempDirectory(shm.get(), "polarscale-local-")
                        : Files.createTempDirectory("polarscale-local-");
                Files.setPosixFilePermissions(b, PosixFilePermissions.fromString("rwx--x--x"));
                return new Base(b, true);
            }
            if (!Files.isDirectory(requested.get())) {
                throw new IllegalArgumentException("base directory " + requested.get() + " exists and is not a directory");
            }
            try (Stream<Path> entries = Files.list(requested.get())) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException("base directory " + requested.get() + " is not empty");
                }
            }
            return new Base(requested.get(), false);
        } catch (IOException e) {
            throw new UncheckedIOException("local cluster - cannot create its base directory", e);
        }
    }

    /** {@code /dev/shm} if it is a tmpfs with {@link #TMPFS_MIN_FREE} free (a container's 64 MiB does not qualify). */
    static Optional<Path> memoryBacked() {
        Path shm = Path.of("/dev/shm");
        try {
            FileStore store = Files.getFileStore(shm);
            return Files.isDirectory(shm) && Files.isWritable(shm) && "tmpfs".equals(store.type())
                    && store.getUsableSpace() >= TMPFS_MIN_FREE ? Optional.of(shm) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The spec of a local cluster's primary: a free port on {@code host}, in {@code <base>/<name>}. */
    public static ClusterSpec spec(Settings settings, String name, String host, Base base) {
        ClusterSpec.Builder spec = ClusterSpec.builder()
                .primary(name, host, FreePorts.pick(host), base.path().resolve(name))
                .verifyTimeout(settings.verifyTimeout()).listener(settings.listener());
        return finish(spec, settings.installation().orElse(null), settings.polarDb(), base, settings.templateCache(),
                settings.pfs().orElse(null)).build();
    }

    /** The machine-wide template cache: {@code <PgBinaries.cacheDirectory()>/templates}. */
    public static Path defaultTemplateCache() {
        return PgBinaries.cacheDirectory().resolve("templates");
    }

    /**
     * A local cluster's spec: its binaries if given, the template cache (the primary's initdb, a
     * PolarDB replica's configuration), and for PolarDB shared storage in local-file-system mode
     * under the base directory, or on {@code pfs} unless it is null.
     */
    private static ClusterSpec.Builder finish(ClusterSpec.Builder spec, PgInstallation installation, boolean polarDb,
                                              Base base, Path templateCache, PfsSharedStorage pfs) {
        if (installation != null) {
            spec.installation(installation);
        }
        spec.templateCache(templateCache);
        if (polarDb) {
            CommandExecutor local = Executors.local();
            String osUser = OsUsers.serverUser(local).orElseGet(() -> OsUsers.whoami(local));
            spec.sharedStorage(pfs != null ? pfs : SharedStorage.localFileSystem(base.path().resolve("shared_data"),
                    osUser));
        }
        return spec;
    }

    /**
     * A local PFS cluster's teardown, after its nodes stopped: its deploy found the PFS directory
     * empty, so everything in it is the cluster's. Nothing when {@code pfs} is null.
     */
    public static void emptyPfsDirectory(PfsSharedStorage pfs) {
        if (pfs != null) {
            try (CommandExecutor local = Executors.local()) {
                pfs.deleteContents(local);
            }
        }
    }

    /**
     * Unless {@code on}, {@code ALTER SYSTEM SET fsync = off} on the primary (its followers copy
     * the setting), and waits until the server has reloaded it: a throw-away cluster gains nothing
     * from flushing to disk, and then its base backups skip it too. Crash safety is lost only for
     * an OS crash.
     */
    public static void fsync(PostgresNode primary, boolean on) {
        if (on) {
            return;
        }
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET fsync = off");
            s.execute("SELECT pg_reload_conf()");
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (true) {
                try (ResultSet rs = s.executeQuery("SELECT current_setting('fsync')")) {
                    rs.next();
                    if ("off".equals(rs.getString(1))) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new PolarException(PolarException.Reason.TIMEOUT, primary.name(), null, null,
                            primary.name() + " - fsync still on 10 s after pg_reload_conf()", null);
                }
                Thread.sleep(2);
            }
        } catch (SQLException e) {
            throw new PolarException(PolarException.Reason.SQL_ERROR, primary.name(), null, e.getSQLState(),
                    primary.name() + " - cannot turn fsync off: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PolarException(PolarException.Reason.INTERRUPTED, primary.name() + " - interrupted", e);
        }
    }

    /** Runs {@code cleanup} when the JVM shuts down (Ctrl-C included); returns the hook for {@link #cancel}. */
    public static Thread onShutdown(Runnable cleanup) {
        Thread hook = new Thread(cleanup, "polarscale-local-cluster-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    /** Unregisters a hook of {@link #onShutdown}, unless it is the one running. */
    public static void cancel(Thread hook) {
        if (hook != null && Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is already running the hooks; the hook will find the cluster closed
            }
        }
    }

    /** HikariCP on a node as the superuser: at most 5 connections, none kept idle. */
    public static HikariDataSource pool(String name, PostgresNode n) {
        HikariConfig cfg = new HikariConfig();
        cfg.setPoolName("local-" + name);
        cfg.setJdbcUrl(n.jdbcUrl());
        cfg.setUsername(n.superuser());
        cfg.setPassword(n.password());
        cfg.setMaximumPoolSize(5);
        cfg.setMinimumIdle(0);
        cfg.setConnectionTimeout(10_000);
        cfg.setInitializationFailTimeout(-1);
        return new HikariDataSource(cfg);
    }

    /**
     * Closes the pools, stops every node (fast, else immediate; followers before the primary) and
     * deletes their directories, then the base directory if owned (when every node stopped, the
     * base directory alone: one command for the whole tree).
     *
     * @throws PolarException naming what could not be cleaned up, after trying everything
     */
    public static void tearDown(Map<String, HikariDataSource> pools, Collection<PostgresNode> nodes, String primary,
                                Base base) {
        pools.values().forEach(HikariDataSource::close);
        pools.clear();
        List<PostgresNode> ordered = new ArrayList<>(nodes);
        ordered.sort((a, b) -> a.name().equals(primary) ? 1 : b.name().equals(primary) ? -1 : 0);
        List<RuntimeException> failures = new ArrayList<>();
        for (PostgresNode n : ordered) {
            try {
                n.stop(PostgresNode.StopMode.FAST);
            } catch (RuntimeException e) {
                try {
                    n.stop(PostgresNode.StopMode.IMMEDIATE);
                } catch (RuntimeException again) {
                    e.addSuppressed(again);
                    failures.add(e);
                }
            }
        }
        // every node stopped and the base is ours: the rm of the base below deletes them all at once
        boolean bulk = failures.isEmpty() && base != null && base.owned();
        for (PostgresNode n : bulk ? List.<PostgresNode>of() : ordered) {
            try {
                n.deleteDataDirectory();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        if (base != null && base.owned()) {
            CommandResult r = Executors.local().execute(Command.of("rm", "-rf", "--", base.path().toString())
                    .withTimeout(Duration.ofMinutes(2)));
            if (!r.succeeded()) {
                failures.add(new PolarException(PolarException.Reason.COMMAND_FAILED, "local cluster - cannot delete "
                        + base.path() + ": " + r.stderrTail(5)));
            }
        }
        if (!failures.isEmpty()) {
            PolarException e = new PolarException(failures.get(0) instanceof PolarException p ? p.reason()
                    : PolarException.Reason.OTHER, "local cluster - cleanup of " + (base == null ? "?" : base.path())
                    + " incomplete: " + failures.get(0).getMessage(), failures.get(0));
            failures.stream().skip(1).forEach(e::addSuppressed);
            throw e;
        }
    }
}
