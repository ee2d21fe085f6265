package dev.polarscale.replication.internal;

import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.ReplicationException;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Adds a streaming standby with its own copy of the data: lock, recover, check, create slot,
 * base backup, configure ({@code postgresql.conf}, {@code .pgpass}, {@code standby.signal}),
 * start, verify recovery, verify streaming, verify canary, register.
 */
public final class AddStandby {
    private AddStandby() {
    }

    public static Operation operation(ScalerContext ctx, NodeSpec node) {
        ClusterSpec spec = ctx.spec();
        PostgresNode primary = ctx.primaryNode();
        PostgresNode standby = ctx.follower(node);
        FollowerSteps f = new FollowerSteps(ctx, node, standby);
        String host = f.host();
        HostFacts facts = ctx.facts(host);
        boolean onPrimaryHost = host.equals(spec.primaryHost());

        List<String> backup = new ArrayList<>();
        backup.add("mkdir -p -m 0700 " + standby.dataDirectory());
        backup.add(BaseBackup.pgBasebackup(standby, spec.primaryHost(), spec.primaryPort().value(),
                spec.replicationUser(), spec.replicationPassword(), node.slotName(), false)
                + "  -- and --no-sync when the primary runs with fsync=off");
        if (onPrimaryHost) {
            backup.add("without " + facts.installation().tool("pg_basebackup") + ": SELECT pg_backup_start('polarscale "
                    + node.name() + "', true); " + BaseBackup.copyCommand(primary, standby)
                    + "; SELECT labelfile FROM pg_backup_stop(true)  -- written to backup_label");
        }
        Step baseBackup = Step.of("base backup", host, backup, () -> {
            standby.createDirectory(standby.dataDirectory());
            if (facts.has("pg_basebackup")) {
                standby.executor().run(BaseBackup.pgBasebackup(standby, spec.primaryHost(),
                        spec.primaryPort().value(), spec.replicationUser(), spec.replicationPassword(),
                        node.slotName(), BaseBackup.primaryRunsWithoutFsync(ctx.primary(), node.name())));
            } else if (onPrimaryHost) {
                BaseBackup.lowLevelCopy(primary, standby);
            } else {
                throw new ReplicationException(PolarException.Reason.BINARIES_MISSING, node.name(), host,
                        node.name() + " - pg_basebackup is not installed in " + facts.installation().binDir()
                                + " on " + host + ", and the low-level copy only works on the primary's host "
                                + spec.primaryHost(), null);
            }
        }).undoneEvenIfHalfDone(standby::deleteDataDirectory);

        Step configure = Step.of("configure", host, List.of(
                Configs.planned("postgresql.conf", Configs.standby(spec, node, host)),
                Configs.pgpassPlanned(spec), "standby.signal"), () -> {
                    standby.writeFile("postgresql.conf", Configs.standby(spec, node, host)
                            .mergeInto(standby.readFile("postgresql.conf")));
                    standby.writeFile(Configs.PGPASS, Configs.pgpassLine(spec), spec.replicationPassword());
                    standby.writeFile(NodeRole.STANDBY.signalFile().orElseThrow(), "");
                });

        List<Step> steps = List.of(f.lock(), f.recover(),
                f.check(NodeRole.STANDBY, 2, List.of(), () -> facts.require(node.name(), "a standby needs the server programs",
                        "postgres", "pg_ctl")),
                f.createSlot(), baseBackup, configure, f.start(), f.verifyRecovery(), f.verifyStreaming(),
                f.verifyCanary(), f.register(NodeRole.STANDBY, OptionalInt::empty));
        return new Operation(Operation.Kind.ADD_STANDBY, node.name(), steps,
                () -> f.journalEntry(Operation.Kind.ADD_STANDBY, OptionalInt.empty()), "create slot",
                node.keepOnFailure(), f::canaryLag, f.lock);
    }
}
