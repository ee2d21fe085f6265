package dev.polarscale.replication.internal;

import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.ClusterStatus;
import dev.polarscale.replication.NodeStatus;
import dev.polarscale.replication.SlotInfo;
import dev.polarscale.replication.StorageStatus;
import dev.polarscale.storage.PfsSharedStorage;
import dev.polarscale.storage.SharedStorage;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads the cluster's state: the membership, slots and {@code pg_stat_replication} on the
 * primary, and {@code pg_is_in_recovery()} on every node; with shared storage, per host of a node,
 * the storage (on PFS: the device and whether its pfsd runs, {@code pgrep} through the host's
 * executor). One unreachable node or host is a row with its error, never an exception; an
 * unreachable primary is a status with the primary's row alone, carrying the error.
 */
public final class StatusReader {
    private StatusReader() {
    }

    private record Replication(String state, OptionalLong lagBytes, Optional<Duration> lag) {
    }

    public static ClusterStatus read(ScalerContext ctx) {
        return read(ctx, true);
    }

    /**
     * {@link #read(ScalerContext)}; without {@code withStorage} the status has no storage rows and
     * runs no command on any host (for callers that look at the nodes only).
     */
    public static ClusterStatus read(ScalerContext ctx, boolean withStorage) {
        ClusterSpec spec = ctx.spec();
        Map<String, Boolean> slotActive = new HashMap<>();
        Map<String, Replication> repl = new HashMap<>();
        List<Registry.Entry> entries;
        try {
            for (SlotInfo s : ctx.slots().list()) {
                slotActive.put(s.name().value(), s.active());
            }
            readReplication(ctx, repl);
            entries = ctx.registry().list();
        } catch (RuntimeException | SQLException e) {
            return new ClusterStatus(List.of(new NodeStatus(spec.primaryName(), NodeRole.PRIMARY, spec.primaryHost(),
                    spec.primaryPort().value(), false, Optional.empty(), Optional.empty(), Optional.empty(),
                    OptionalLong.empty(), Optional.empty(), Optional.of(String.valueOf(e.getMessage())))),
                    withStorage ? storage(ctx, List.of(spec.primaryHost())) : List.of());
        }
        List<NodeStatus> out = new ArrayList<>();
        for (Registry.Entry e : entries) {
            Optional<Boolean> inRecovery = Optional.empty();
            Optional<String> error = Optional.empty();
            try {
                PostgresNode n = ctx.node(e);
                try (Connection c = n.connect(Duration.ofSeconds(2)); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                    rs.next();
                    inRecovery = Optional.of(rs.getBoolean(1));
                }
            } catch (SQLException | RuntimeException ex) {
                error = Optional.of(String.valueOf(ex.getMessage()));
            }
            Replication r = repl.get(e.name());
            boolean primary = e.role() == NodeRole.PRIMARY;
            out.add(new NodeStatus(e.name(), e.role(), e.host(), e.port(), inRecovery.isPresent(), inRecovery,
                    primary ? Optional.empty()
                            : Optional.of(slotActive.getOrDefault(SlotName.forNode(e.name()).value(), false)),
                    r == null ? Optional.empty() : Optional.ofNullable(r.state()),
                    r == null ? OptionalLong.empty() : r.lagBytes(),
                    r == null ? Optional.empty() : r.lag(), error));
        }
        return new ClusterStatus(out, withStorage ? storage(ctx, entries.stream().map(Registry.Entry::host).toList())
                : List.of());
    }

    /** Per host (each once, in order), the shared storage as it sees it; none without shared storage. */
    private static List<StorageStatus> storage(ScalerContext ctx, List<String> hosts) {
        Optional<SharedStorage> shared = ctx.spec().sharedStorage();
        if (shared.isEmpty()) {
            return List.of();
        }
        SharedStorage s = shared.get();
        List<StorageStatus> out = new ArrayList<>();
        for (String host : new LinkedHashSet<>(hosts)) {
            if (!(s instanceof PfsSharedStorage pfs)) {
                out.add(new StorageStatus(host, s.initdbDirectory(), Optional.empty(), Optional.empty(), Optional.empty()));
                continue;
            }
            Optional<Boolean> running = Optional.empty();
            Optional<String> error = Optional.empty();
            try {
                running = Optional.of(pfs.daemonRunning(ctx.spec().executor(host)));
            } catch (RuntimeException e) {
                error = Optional.of(String.valueOf(e.getMessage()));
            }
            out.add(new StorageStatus(host, s.initdbDirectory(), Optional.of(pfs.device().devicePath()), running, error));
        }
        return out;
    }

    private static void readReplication(ScalerContext ctx, Map<String, Replication> repl) throws SQLException {
        try (Connection c = ctx.primary().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT application_name, state, "
                     + "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
                     + "extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication")) {
            while (rs.next()) {
                long bytes = rs.getLong(3);
                OptionalLong b = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(bytes);
                double secs = rs.getDouble(4);
                Optional<Duration> lag = rs.wasNull() ? Optional.empty()
                        : Optional.of(Duration.ofNanos((long) (secs * 1e9)));
                repl.put(rs.getString(1), new Replication(rs.getString(2), b, lag));
            }
        }
    }
}
