package dev.polarscale.replication.internal;

import dev.polarscale.core.Command;
import dev.polarscale.core.ConnInfo;
import dev.polarscale.core.HbaRule;
import dev.polarscale.core.HostId;
import dev.polarscale.core.NodeConfig;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.WalLevel;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.storage.SharedStorage;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The configuration files PolarScale writes: {@code postgresql.conf} blocks for the primary,
 * streaming standbys and PolarDB replicas, the primary's {@code pg_hba.conf} replication rules,
 * and each follower's {@code .pgpass} line. Pure functions of the spec: nothing runs here.
 */
public final class Configs {
    /** The primary's {@code polar_hostid}. */
    public static final int PRIMARY_HOST_ID = 1;
    /** The follower's password file, inside its data directory (mode 0600). */
    public static final String PGPASS = "polarscale.pgpass";

    private Configs() {
    }

    public static NodeConfig primary(ClusterSpec spec) {
        int senders = spec.maxWalSenders();
        if (spec.sharedStorage().isPresent()) {
            return NodeConfig.primary(spec.primaryPort(), HostId.of(PRIMARY_HOST_ID),
                            spec.sharedStorage().get().configuration())
                    .listenAddresses(listenAddress(spec.primaryHost()))
                    .maxWalSenders(senders).maxReplicationSlots(senders).build();
        }
        return NodeConfig.builder().role(NodeRole.PRIMARY).port(spec.primaryPort())
                .listenAddresses(listenAddress(spec.primaryHost()))
                .walLevel(WalLevel.REPLICA).maxWalSenders(senders).maxReplicationSlots(senders)
                .hotStandby(true).build();
    }

    /**
     * The settings a hot standby (or replica) must hold at least at the primary's value, or its
     * startup process exits: "recovery aborted because of insufficient parameter settings".
     */
    public static final List<String> AT_LEAST_PRIMARY = List.of("max_connections", "max_worker_processes",
            "max_wal_senders", "max_prepared_transactions", "max_locks_per_transaction", "max_replication_slots");

    /**
     * A streaming standby; {@code primary} holds the primary's values of {@link #AT_LEAST_PRIMARY}
     * (empty in a plan: then only the spec's floors show).
     */
    public static NodeConfig standby(ClusterSpec spec, NodeSpec node, String host, Map<String, Integer> primary) {
        return fit(NodeConfig.standby(node.port(), primaryConnInfo(spec, node), node.slotName()), spec, primary,
                Integer.MIN_VALUE).listenAddresses(listenAddress(host)).build();
    }

    public static NodeConfig replica(ClusterSpec spec, NodeSpec node, String host, HostId hostId,
                                     SharedStorage storage, Map<String, Integer> primary) {
        return fit(NodeConfig.replica(node.port(), hostId, storage.configuration(), primaryConnInfo(spec, node),
                node.slotName()), spec, primary, NodeConfig.DEFAULT_MAX_CONNECTIONS)
                .listenAddresses(listenAddress(host)).build();
    }

    /** Raises every {@link #AT_LEAST_PRIMARY} setting to the primary's value where that is higher. */
    private static NodeConfig.Builder fit(NodeConfig.Builder b, ClusterSpec spec, Map<String, Integer> primary,
                                          int connectionsFloor) {
        int senders = Math.max(spec.maxWalSenders(), primary.getOrDefault("max_wal_senders", 0));
        b.maxWalSenders(senders).maxReplicationSlots(Math.max(spec.maxWalSenders(),
                primary.getOrDefault("max_replication_slots", 0)));
        int connections = Math.max(connectionsFloor, primary.getOrDefault("max_connections", Integer.MIN_VALUE));
        if (connections != Integer.MIN_VALUE) {
            b.maxConnections(connections);
        }
        for (String name : List.of("max_worker_processes", "max_prepared_transactions", "max_locks_per_transaction")) {
            Integer v = primary.get(name);
            if (v != null) {
                b.set(name, Integer.toString(v));
            }
        }
        return b;
    }

    /** How a follower reaches the primary: the replication role, its password from the pgpass file. */
    public static ConnInfo primaryConnInfo(ClusterSpec spec, NodeSpec node) {
        return ConnInfo.builder().host(spec.primaryHost()).port(spec.primaryPort())
                .user(spec.replicationUser()).dbname("postgres").applicationName(node.name())
                .option("passfile", node.dataDirectory().resolve(PGPASS).toString())
                .build();
    }

    /**
     * The managed {@code pg_hba.conf} block: one {@code scram-sha-256} replication rule per CIDR
     * the spec names, or else per host that runs a node ({@code nodeHosts}, the primary's
     * included); and, when the control machine reaches the servers from another address than
     * loopback, a {@code scram-sha-256} rule for the superuser from that address.
     */
    public static List<HbaRule> hbaRules(ClusterSpec spec, java.util.Collection<String> nodeHosts,
                                         java.util.Optional<String> control) {
        List<HbaRule> rules = new ArrayList<>();
        if (!spec.replicationCidrs().isEmpty()) {
            for (String cidr : spec.replicationCidrs()) {
                rules.add(HbaRule.replication(spec.replicationUser(), cidr));
            }
        } else {
            new java.util.TreeSet<>(nodeHosts).forEach(h -> rules.add(HbaRule.replication(spec.replicationUser(),
                    cidrOf(h))));
        }
        control.ifPresent(addr -> rules.add(controlRule(spec, addr)));
        return rules;
    }

    /** The {@code scram-sha-256} rule for the superuser's connections from the control machine's {@code addr}. */
    static HbaRule controlRule(ClusterSpec spec, String addr) {
        return HbaRule.builder().type(HbaRule.ConnectionType.HOST).allDatabases().user(spec.superuser())
                .address(cidrOf(addr)).build();
    }

    /** {@code 10.0.0.5/32}, {@code ::1/128}; {@code localhost} is {@code 127.0.0.1/32}. */
    static String cidrOf(String hostAddress) {
        if (hostAddress.equals("localhost")) {
            return "127.0.0.1/32";
        }
        return hostAddress + (hostAddress.contains(":") ? "/128" : "/32");
    }

    /** The follower's {@code .pgpass} line for the primary (a secret). */
    public static String pgpassLine(ClusterSpec spec) {
        return escapePgpass(spec.primaryHost()) + ":" + spec.primaryPort() + ":*:"
                + escapePgpass(spec.replicationUser()) + ":" + escapePgpass(spec.replicationPassword()) + "\n";
    }

    /** {@link #pgpassLine} as a plan shows it: the password masked. */
    public static String pgpassPlanned(ClusterSpec spec) {
        return PGPASS + " (0600): " + spec.primaryHost() + ":" + spec.primaryPort() + ":*:" + spec.replicationUser()
                + ":" + Command.MASK;
    }

    /** A rendered config block as a plan shows it, indented under its step. */
    public static String planned(String file, NodeConfig config) {
        return file + " managed block:\n      " + config.renderMasked().strip().replace("\n", "\n      ");
    }

    static String listenAddress(String host) {
        return host.equals("localhost") ? "localhost" : host;
    }

    private static String escapePgpass(String s) {
        return s.replace("\\", "\\\\").replace(":", "\\:");
    }
}
