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

    /** A hot standby needs at least the primary's {@code max_wal_senders} / {@code max_replication_slots}. */
    public static NodeConfig standby(ClusterSpec spec, NodeSpec node, String host) {
        return NodeConfig.standby(node.port(), primaryConnInfo(spec, node), node.slotName())
                .maxWalSenders(spec.maxWalSenders()).maxReplicationSlots(spec.maxWalSenders())
                .listenAddresses(listenAddress(host)).build();
    }

    public static NodeConfig replica(ClusterSpec spec, NodeSpec node, String host, HostId hostId,
                                     SharedStorage storage) {
        return NodeConfig.replica(node.port(), hostId, storage.configuration(), primaryConnInfo(spec, node),
                        node.slotName())
                .maxWalSenders(spec.maxWalSenders()).maxReplicationSlots(spec.maxWalSenders())
                .listenAddresses(listenAddress(host)).build();
    }

    /** How a follower reaches the primary: the replication role, its password from the pgpass file. */
    public static ConnInfo primaryConnInfo(ClusterSpec spec, NodeSpec node) {
        return ConnInfo.builder().host(spec.primaryHost()).port(spec.primaryPort())
                .user(spec.replicationUser()).dbname("postgres").applicationName(node.name())
                .option("passfile", node.dataDirectory().resolve(PGPASS).toString())
                .build();
    }

    /** One {@code scram-sha-256} replication rule per allowed CIDR. */
    public static List<HbaRule> hbaRules(ClusterSpec spec) {
        List<HbaRule> rules = new ArrayList<>();
        for (String cidr : spec.replicationCidrs()) {
            rules.add(HbaRule.replication(spec.replicationUser(), cidr));
        }
        return rules;
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
