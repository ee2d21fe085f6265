package dev.polarscale.replication.internal;

import dev.polarscale.core.Command;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.ReplicationException;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Adds a streaming standby with its own copy of the data: lock, recover, check, create slot,
 * allow replication, base backup, configure ({@code postgresql.conf}, {@code .pgpass},
 * {@code standby.signal}), start, verify recovery, verify streaming, verify canary, register.
 * A copy from another standby ({@link NodeSpec#cloneFrom()}) adds "allow clone" and "wait for
 * source" before the base backup ({@link CloneSource}).
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
        Optional<CloneSource> clone = node.cloneFrom().map(name -> CloneSource.resolve(ctx, node, host));
        String sourceHost = clone.map(CloneSource::host).orElse(spec.primaryHost());
        int sourcePort = clone.map(CloneSource::port).orElse(spec.primaryPort().value());
        // the slot is on the primary: only a copy from the primary streams its WAL through it
        Optional<SlotName> slot = clone.isPresent() ? Optional.empty() : Optional.of(node.slotName());
        Command copy = BaseBackup.pgBasebackup(standby, sourceHost, sourcePort, spec.replicationUser(),
                spec.replicationPassword(), slot, node.maxRate(), false);

        List<String> backup = new ArrayList<>();
        backup.add("mkdir -p -m 0700 " + standby.dataDirectory());
        backup.add(copy + "  -- and --no-sync when the primary runs with fsync=off" + clone.map(c -> "; from standby "
                + c.name() + ", no -S: its slot is on the primary, pg_basebackup keeps the WAL it streams with a "
                + "temporary slot on " + c.name()).orElse(""));
        clone.ifPresent(c -> backup.add(c.plannedVerification()));
        boolean lowLevel = onPrimaryHost && clone.isEmpty() && node.maxRate().isEmpty();
        if (lowLevel) {
            backup.add("without " + facts.installation().tool("pg_basebackup") + ": SELECT pg_backup_start('polarscale "
                    + node.name() + "', true); " + BaseBackup.copyCommand(primary, standby)
                    + "; SELECT labelfile FROM pg_backup_stop(true)  -- written to backup_label");
        }
        Step baseBackup = Step.of("base backup", host, backup, () -> {
            standby.createDirectory(standby.dataDirectory());
            if (facts.has("pg_basebackup")) {
                // a copy of a primary that runs with fsync=off inherits it: flushing the copy gains nothing
                standby.executor().run(BaseBackup.pgBasebackup(standby, sourceHost, sourcePort,
                        spec.replicationUser(), spec.replicationPassword(), slot, node.maxRate(),
                        BaseBackup.primaryRunsWithoutFsync(ctx.primary(), node.name())));
                clone.ifPresent(c -> c.verifyCopy(standby));
            } else if (lowLevel) {
                BaseBackup.lowLevelCopy(primary, standby);
            } else {
                throw new ReplicationException(PolarException.Reason.BINARIES_MISSING, node.name(), host,
                        node.name() + " - pg_basebackup is not installed in " + facts.installation().binDir()
                                + " on " + host + ", and the low-level copy only works on the primary's host "
                                + spec.primaryHost() + ", from the primary, without a rate limit", null);
            }
        }).undoneEvenIfHalfDone(standby::deleteDataDirectory);

        Step configure = Step.of("configure", host, List.of(
                Configs.planned("postgresql.conf", Configs.standby(spec, node, host, java.util.Map.of()))
                        + "\n      (max_connections, max_worker_processes, max_wal_senders, max_prepared_transactions,"
                        + " max_locks_per_transaction, max_replication_slots: at least the primary's, read at check)",
                Configs.pgpassPlanned(spec), AUTO_CONF_PLANNED, "standby.signal"), () -> {
                    standby.writeFile("postgresql.conf", Configs.standby(spec, node, host, f.primarySettings())
                            .mergeInto(standby.readFile("postgresql.conf")));
                    standby.writeFile(Configs.PGPASS, Configs.pgpassLine(spec), spec.replicationPassword());
                    dropCopiedUpstream(standby);
                    standby.writeFile(NodeRole.STANDBY.signalFile().orElseThrow(), "");
                });

        List<String> extraChecks = clone.map(CloneSource::plannedChecks).orElse(List.of());
        List<Step> steps = new ArrayList<>(List.of(f.lock(), f.recover(),
                f.check(NodeRole.STANDBY, 2, extraChecks, () -> {
                    facts.require(node.name(), "a standby needs the server programs", "postgres", "pg_ctl");
                    if (node.maxRate().isPresent()) {
                        facts.require(node.name(), "a rate-limited copy needs pg_basebackup", "pg_basebackup");
                    }
                    clone.ifPresent(CloneSource::check);
                }),
                f.createSlot(), f.allowReplication()));
        clone.ifPresent(c -> steps.addAll(List.of(c.allowClone(), c.waitForSource())));
        steps.addAll(List.of(baseBackup, configure, f.start(), f.verifyRecovery(), f.verifyStreaming(),
                f.verifyCanary(), f.register(NodeRole.STANDBY, OptionalInt::empty)));
        return new Operation(Operation.Kind.ADD_STANDBY, node.name(), steps,
                () -> f.journalEntry(Operation.Kind.ADD_STANDBY, OptionalInt.empty()), "create slot",
                node.keepOnFailure(), f::canaryLag, f.lock);
    }

    /** Settings of a copied {@code postgresql.auto.conf} that would override the managed block. */
    private static final List<String> UPSTREAM_SETTINGS = List.of("primary_conninfo", "primary_slot_name");

    private static final String AUTO_CONF_PLANNED = "postgresql.auto.conf: primary_conninfo and primary_slot_name "
            + "copied from the source removed, if any (read after postgresql.conf, they would override the block)";

    /**
     * Removes {@link #UPSTREAM_SETTINGS} from the copy's {@code postgresql.auto.conf}: a source made
     * by {@code pg_basebackup -R} or {@code ALTER SYSTEM} has them there, and that file is read after
     * {@code postgresql.conf}, so the new standby would stream through the source's slot.
     */
    static void dropCopiedUpstream(PostgresNode standby) {
        String file = "postgresql.auto.conf";
        if (!standby.fileExists(file)) {
            return;
        }
        String content = standby.readFile(file);
        String kept = withoutSettings(content, UPSTREAM_SETTINGS);
        if (!kept.equals(content)) {
            standby.writeFile(file, kept);
        }
    }

    /** {@code content} of a configuration file without the lines that set any of {@code names}. */
    static String withoutSettings(String content, List<String> names) {
        StringBuilder out = new StringBuilder();
        for (String line : content.split("\n", -1)) {
            String key = line.strip().split("[\\s=]", 2)[0].toLowerCase(java.util.Locale.ROOT);
            if (!names.contains(key)) {
                out.append(line).append('\n');
            }
        }
        return out.substring(0, out.length() - 1);
    }
}
