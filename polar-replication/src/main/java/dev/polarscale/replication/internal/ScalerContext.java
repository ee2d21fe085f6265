package dev.polarscale.replication.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.ReplicationSlotManager;
import dev.polarscale.replication.ScaleEvent;
import dev.polarscale.replication.ScaleListener;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Everything the operations share, and nothing else: the spec, the connections to the primary,
 * the membership, slots and journal on it, the facts about each host, and the factory for the
 * {@link PostgresNode}s of the cluster. The facade creates one per scaler and closes it with the
 * scaler; operations depend on it, never on the facade.
 */
public final class ScalerContext implements AutoCloseable {

    private final ClusterSpec spec;
    private final Map<String, HostFacts> facts = new ConcurrentHashMap<>();
    private final List<Consumer<ScaleEvent>> eventListeners = new CopyOnWriteArrayList<>();
    private HikariDataSource pool;
    private PrimaryConnections connections;

    public ScalerContext(ClusterSpec spec) {
        this.spec = spec;
    }

    public ClusterSpec spec() {
        return spec;
    }

    public ScaleListener listener() {
        return spec.listener();
    }

    /**
     * Pooled connections to the primary as the superuser (at most 4, none kept idle). Made on
     * first use; a connection that died with a primary restart is replaced when it is borrowed
     * ({@link PrimaryConnections}).
     */
    public synchronized DataSource primary() {
        if (pool == null || pool.isClosed()) {
            PostgresNode p = primaryNode();
            HikariConfig cfg = new HikariConfig();
            cfg.setPoolName("polarscale-" + spec.primaryName());
            cfg.setJdbcUrl(p.jdbcUrl());
            cfg.setUsername(p.superuser());
            cfg.setPassword(p.password());
            cfg.setMaximumPoolSize(4);
            cfg.setMinimumIdle(0);
            cfg.setConnectionTimeout(5_000);
            cfg.setInitializationFailTimeout(-1);
            cfg.addDataSourceProperty("ApplicationName", "polarscale");
            cfg.addDataSourceProperty("connectTimeout", "5");
            pool = new HikariDataSource(cfg);
            connections = new PrimaryConnections(pool);
        }
        return connections;
    }

    public Registry registry() {
        return new Registry(spec.primaryName(), primary());
    }

    public ReplicationSlotManager slots() {
        return new ReplicationSlotManager(spec.primaryName(), primary());
    }

    public Journal journal() {
        return new Journal(spec.primaryName(), primary());
    }

    /** The event history on the primary and this scaler's event listeners. */
    public EventLog events() {
        return new EventLog(spec.primaryName(), primary(), () -> primaryNode().connect(Duration.ofSeconds(3)),
                spec.eventRetention(), eventListeners);
    }

    /** Listeners of every event of this scaler's operations, in the order added. */
    public List<Consumer<ScaleEvent>> eventListeners() {
        return eventListeners;
    }

    /** Runs operations with this scaler's journal, listener and event history. */
    public OperationRunner runner() {
        return new OperationRunner(journal(), listener(), events());
    }

    /** Takes the cluster lock on a pooled connection, waiting up to the spec's lock timeout. */
    public ClusterLock lock(String node) {
        return ClusterLock.acquire(node, primary(), spec.lockTimeout());
    }

    /** The facts about a registered host (asked on first use, then remembered). */
    public HostFacts facts(String host) {
        CommandExecutor executor = spec.executor(host);
        return facts.computeIfAbsent(host, h -> new HostFacts(h, executor, spec.installation(), spec.osUser(),
                Executors.isLoopback(h)));
    }

    /** The host a node to add lives on: its own, or the primary's; it must be registered. */
    public String hostOf(NodeSpec node) {
        String host = node.host().orElse(spec.primaryHost());
        spec.executor(host);
        return host;
    }

    public PostgresNode primaryNode() {
        return node(spec.primaryName(), spec.primaryHost(), spec.primaryPort().value(), spec.primaryDataDirectory(),
                Optional.empty());
    }

    public PostgresNode follower(NodeSpec n) {
        return node(n.name(), hostOf(n), n.port().value(), n.dataDirectory(), Optional.empty());
    }

    /** A registered node; its OS user is the one it was registered with. */
    public PostgresNode node(Registry.Entry e) {
        return node(e.name(), e.host(), e.port(), Path.of(e.dataDirectory()), e.osUser());
    }

    /** A node of the cluster; without an OS user, the host's server user. */
    public PostgresNode node(String name, String host, int port, Path dir, Optional<String> osUser) {
        HostFacts f = facts(host);
        String user = osUser.orElseGet(f::runsAs);
        return PostgresNode.builder().name(name).installation(f.installation()).executor(f.executor())
                .dataDirectory(dir).port(port).jdbcHost(host).superuser(spec.superuser())
                .password(spec.superuserPassword())
                .startTimeout(spec.verifyTimeout()).osUser(user).build();
    }

    @Override
    public synchronized void close() {
        if (pool != null) {
            pool.close();
            pool = null;
            connections = null;
        }
    }
}
