package dev.polarscale.replication.internal;

import dev.polarscale.core.HbaRule;
import dev.polarscale.core.HostId;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.ReplicationException;
import dev.polarscale.replication.SlotInfo;
import dev.polarscale.storage.ConfigTemplates;
import dev.polarscale.storage.PfsSharedStorage;
import dev.polarscale.storage.PolarInitdb;
import dev.polarscale.storage.SharedStorage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Adds a PolarDB read-only node on the primary's shared storage (the tutorial's B1-B12): lock,
 * recover, check, mount storage (never format; on PFS the device checked, pfsd running on the
 * node's host, the cluster's directory there), create slot, local directory,
 * {@code polar-initdb.sh ... replica} (checked, since its exit code lies), config templates,
 * configure (unique {@code polar_hostid}, {@code replica.signal}), start, the verifications,
 * register.
 */
public final class AddReplica {
    private AddReplica() {
    }

    public static Operation operation(ScalerContext ctx, NodeSpec node) {
        ClusterSpec spec = ctx.spec();
        SharedStorage storage = spec.sharedStorage().orElseThrow(() -> new IllegalStateException(node.name()
                + " - addReplica needs a PolarDB cluster (ClusterSpec.Builder.sharedStorage); "
                + "on plain PostgreSQL use addStandby"));
        if (node.cloneFrom().isPresent() || node.maxRate().isPresent()) {
            throw new IllegalArgumentException(node.name() + " - a shared-storage replica copies no data: cloneFrom "
                    + "and maxRate apply to addStandby only");
        }
        PostgresNode replica = ctx.follower(node);
        FollowerSteps f = new FollowerSteps(ctx, node, replica);
        String host = f.host();
        HostFacts facts = ctx.facts(host);
        PolarInitdb polarInitdb = PolarInitdb.using(facts.installation(), facts.runsAs());
        // polar-initdb.sh does not quote its arguments: an unusable path is refused here, before
        // the slot and the directory exist, not in its own step after them
        String initdbCommand = polarInitdb.command(replica.dataDirectory(), storage, "replica").toString();
        Path cache = spec.templateCache().orElse(node.dataDirectory().getParent().resolve(".polarscale-templates"));
        HostId[] hostId = {node.hostId().orElse(null)};

        Step mount = storage instanceof PfsSharedStorage pfs ? PfsSteps.mount(pfs, host, replica.executor())
                : Step.of("mount storage", host, List.of(storage + ": the shared directory, never formatted",
                "check: " + storage.initdbDirectory() + "global/pg_control is visible on " + host), () -> {
                    // before anything is made there: a host that does not see the primary's storage
                    if (!storage.containsFile(replica.executor(), "global/pg_control")) {
                        throw new dev.polarscale.storage.StorageException(PolarException.Reason.STORAGE_INVALID, host,
                                node.name() + " - the shared storage " + storage.initdbDirectory() + " holds no "
                                        + "global/pg_control on " + host + ": it is not the primary's shared storage "
                                        + "there (not mounted or shared with this host?)");
                    }
                    storage.prepare(replica.executor());
                });
        Step directory = Step.of("local directory", host, List.of("mkdir -p -m 0700 " + replica.dataDirectory()),
                () -> replica.createDirectory(replica.dataDirectory())).undoneEvenIfHalfDone(replica::deleteDataDirectory);
        Step initdb = Step.of("polar-initdb", host, List.of(initdbCommand, "check: " + replica.dataDirectory()
                        + "/PG_VERSION exists, " + storage.initdbDirectory() + " gained nothing"),
                () -> polarInitdb.initReplica(replica.executor(), replica.dataDirectory(), storage));
        Step templates = Step.of("config templates", host, List.of("cp postgresql.conf pg_hba.conf pg_ident.conf "
                        + "from the host's cached initdb template in " + cache + " to " + replica.dataDirectory()),
                () -> ConfigTemplates.forHost(replica.executor(), facts.installation(), cache, facts.runsAs())
                        .copyConfigFilesTo(replica.dataDirectory()));
        String shownHostId = node.hostId().map(HostId::toString).orElse("<lowest free>");
        Step configure = Step.of("configure", host, List.of(
                Configs.planned("postgresql.conf", Configs.replica(spec, node, host,
                        node.hostId().orElse(HostId.of(HostId.MAX)), storage, java.util.Map.of())).replace("polar_hostid="
                        + node.hostId().orElse(HostId.of(HostId.MAX)), "polar_hostid=" + shownHostId)
                        + "\n      (max_* settings: at least the primary's, read at check)",
                "pg_hba.conf managed block: " + PrimaryHba.rules(ctx, List.of(spec.primaryHost(), host)).stream()
                        .map(HbaRule::render).toList(),
                Configs.pgpassPlanned(spec), "replica.signal"), () -> {
                    replica.writeFile("postgresql.conf", Configs.replica(spec, node, host, hostId[0], storage,
                            f.primarySettings()).mergeInto(replica.readFile("postgresql.conf")));
                    replica.writeFile("pg_hba.conf", HbaRule.mergeInto(replica.readFile("pg_hba.conf"),
                            PrimaryHba.rules(ctx, PrimaryHba.nodeHosts(ctx, List.of(host)))));
                    replica.writeFile(Configs.PGPASS, Configs.pgpassLine(spec), spec.replicationPassword());
                    replica.writeFile(NodeRole.REPLICA.signalFile().orElseThrow(), "");
                });

        List<String> checks = new ArrayList<>(List.of("SELECT host_id FROM polarscale.nodes  -- polar_hostid "
                + shownHostId, "test -x " + facts.installation().tool("polar-initdb.sh")));
        if (storage instanceof PfsSharedStorage) {
            checks.add("test -f " + PolarInitdb.SCRIPT_PFS + "  -- polar-initdb.sh runs pfs from there");
        }
        List<Step> steps = List.of(f.lock(), f.recover(),
                f.check(NodeRole.REPLICA, 1, checks, () -> {
                            facts.require(node.name(), "a PolarDB replica needs PolarDB binaries", "polar-initdb.sh");
                            polarInitdb.requireTools(replica.executor(), storage, "replica", replica.dataDirectory());
                            hostId[0] = chooseHostId(ctx, node);
                        }),
                mount, f.createSlot(), f.allowReplication(), directory, initdb, templates, configure, f.start(),
                f.verifyRecovery(), f.verifyStreaming(), f.verifyCanary(),
                f.register(NodeRole.REPLICA, () -> OptionalInt.of(hostId[0].value())));
        return new Operation(Operation.Kind.ADD_REPLICA, node.name(), steps,
                () -> f.journalEntry(Operation.Kind.ADD_REPLICA, hostId[0] == null ? OptionalInt.empty()
                        : OptionalInt.of(hostId[0].value())), "mount storage", node.keepOnFailure(), f::canaryLag,
                f.lock);
    }

    /** The node's own host id, or the lowest one no registered node holds (the primary holds 1). */
    static HostId chooseHostId(ScalerContext ctx, NodeSpec node) {
        if (node.hostId().isPresent()) {
            if (node.hostId().get().value() == Configs.PRIMARY_HOST_ID) {
                throw new ReplicationException(PolarException.Reason.HOST_ID_TAKEN, node.name(), null,
                        node.name() + " - polar_hostid " + Configs.PRIMARY_HOST_ID + " is the primary's", null);
            }
            return node.hostId().get();
        }
        Set<Integer> used = new HashSet<>();
        used.add(Configs.PRIMARY_HOST_ID);
        Set<SlotName> known = new HashSet<>();
        for (Registry.Entry e : ctx.registry().list()) {
            e.hostId().ifPresent(used::add);
            known.add(SlotName.forNode(e.name()));
        }
        // a node nobody registered streams with a polar_hostid nobody knows: guessing could clash
        List<String> unknown = ctx.slots().list().stream().filter(SlotInfo::active)
                .map(SlotInfo::name).filter(n -> !known.contains(n)).map(SlotName::value).toList();
        if (!unknown.isEmpty()) {
            throw new ReplicationException(PolarException.Reason.HOST_ID_TAKEN, node.name(), node.name()
                    + " - cannot choose a polar_hostid: slot(s) " + unknown + " stream to node(s) this cluster does "
                    + "not know, whose host ids are unknown; give NodeSpec.Builder.hostId, or declare those nodes "
                    + "(ClusterScaler.adopt)");
        }
        for (int id = HostId.MIN; id <= HostId.MAX; id++) {
            if (!used.contains(id)) {
                return HostId.of(id);
            }
        }
        throw new ReplicationException(PolarException.Reason.HOST_ID_TAKEN, node.name(),
                node.name() + " - all polar_hostid values 1..512 are taken");
    }
}
