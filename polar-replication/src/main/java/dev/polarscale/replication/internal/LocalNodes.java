package dev.polarscale.replication.internal;

import com.zaxxer.hikari.HikariDataSource;
import dev.polarscale.core.FreePorts;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.replication.NodeSpec;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The nodes of a {@code LocalCluster}: the followers added (in order), every node an add was
 * started for (so that teardown also stops one left by an add cut short), and the data sources
 * handed out. Thread-safe.
 */
public final class LocalNodes {
    private final Map<String, PostgresNode> followers = new LinkedHashMap<>();
    private final Map<String, PostgresNode> attempted = new ConcurrentHashMap<>();
    private final Map<String, HikariDataSource> pools = new ConcurrentHashMap<>();

    /**
     * Adds a follower named {@code name} like the primary, on a free port of the primary's address
     * ({@link FreePorts#pick}), in {@code <base>/<name>},
     * through {@code add} (the scaler's add); if that fails the scaler has undone it and the node
     * is forgotten.
     */
    public <R> R add(String name, PostgresNode primary, Path base, Function<NodeSpec, R> add) {
        int port = FreePorts.pick(primary.jdbcHost());
        PostgresNode node = primary.toBuilder().name(name).port(port).dataDirectory(base.resolve(name)).build();
        attempting(node);
        R r;
        try {
            r = add.apply(NodeSpec.builder().name(name).port(port).dataDirectory(node.dataDirectory()).build());
        } catch (RuntimeException e) {
            failed(name);
            throw e;
        }
        added(node);
        return r;
    }

    /** An add of this node (or the primary's deploy) is about to start. */
    public void attempting(PostgresNode node) {
        attempted.put(node.name(), node);
    }

    /** The add failed and the scaler undid it. */
    private void failed(String name) {
        attempted.remove(name);
    }

    private synchronized void added(PostgresNode node) {
        followers.put(node.name(), node);
    }

    /** The node was removed: forget it and close its data source. */
    public synchronized void removed(String name) {
        followers.remove(name);
        attempted.remove(name);
        HikariDataSource ds = pools.remove(name);
        if (ds != null) {
            ds.close();
        }
    }

    public synchronized Optional<PostgresNode> follower(String name) {
        return Optional.ofNullable(followers.get(name));
    }

    public synchronized List<String> followerNames() {
        return List.copyOf(followers.keySet());
    }

    /** A pooled data source on the node, made on first use ({@link LocalResources#pool}). */
    public DataSource dataSource(PostgresNode node) {
        return pools.computeIfAbsent(node.name(), k -> LocalResources.pool(k, node));
    }

    /** Stops and deletes every node and the base directory ({@link LocalResources#tearDown}). */
    public synchronized void tearDown(String primary, LocalResources.Base base) {
        try {
            LocalResources.tearDown(pools, attempted.values(), primary, base);
        } finally {
            attempted.clear();
            followers.clear();
        }
    }
}
