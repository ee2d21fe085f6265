package dev.polarscale.replication;

import dev.polarscale.core.PgInstallation;
import dev.polarscale.storage.Pfs;
import dev.polarscale.storage.PfsPath;
import dev.polarscale.storage.SharedStorage;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exact PolarDB replica procedure, as planned, without running anything. */
class ClusterScalerPlanTest {
    private final RecordingExecutor primaryHost = new RecordingExecutor("10.0.0.1");
    private final RecordingExecutor replicaHost = new RecordingExecutor("10.0.0.2");
    private final ClusterSpec spec = ClusterSpec.builder()
            .primary("primary", "10.0.0.1", 5432, Path.of("/home/polar/primary"))
            .host("10.0.0.1", primaryHost)
            .host("10.0.0.2", replicaHost)
            .installation(new PgInstallation(Path.of("/opt/polardb/bin")))
            .osUser("polar")
            .replicationPassword("Repl-Secret-123")
            .superuserPassword("Super-Secret-456")
            .sharedStorage(SharedStorage.localFileSystem(Path.of("/home/polar/shared_data"), "polar"))
            .build();

    private final NodeSpec replica1 = NodeSpec.builder().name("replica1").host("10.0.0.2").port(5433)
            .hostId(2).dataDirectory(Path.of("/home/polar/replica1")).build();

    @Test
    void replicaPlanHasTheSafeOrderAndExactCommands() {
        List<PlannedStep> plan = ClusterScaler.forCluster(spec).planReplica(replica1);
        List<String> names = plan.stream().map(PlannedStep::name).toList();
        assertEquals(List.of("lock", "recover", "check", "mount storage", "create slot", "allow replication",
                "local directory",
                "polar-initdb", "config templates", "configure", "start", "verify recovery", "verify streaming",
                "verify canary", "register"), names);

        assertTrue(names.indexOf("create slot") < names.indexOf("start"), "slot before start");
        assertEquals(List.of("SELECT pg_create_physical_replication_slot('replica1', true)"),
                step(plan, "create slot").actions());
        assertEquals("[polar] /opt/polardb/bin/polar-initdb.sh /home/polar/replica1/ /home/polar/shared_data/ "
                + "replica localfs", step(plan, "polar-initdb").actions().get(0), "local dir first, 15 form");
        assertEquals("10.0.0.2", step(plan, "polar-initdb").host());

        String configure = String.join("\n", step(plan, "configure").actions());
        for (String line : List.of("port=5433", "polar_hostid=2", "polar_enable_shared_storage_mode=on",
                "polar_vfs.localfs_mode=on", "polar_datadir='file-dio:///home/polar/shared_data/'",
                "primary_slot_name='replica1'", "host=10.0.0.1", "port=5432", "application_name=replica1",
                "passfile=/home/polar/replica1/polarscale.pgpass", "host replication polarscale_repl 10.0.0.1/32 "
                        + "scram-sha-256", "max_wal_senders=16", "max_replication_slots=16")) {
            assertTrue(configure.contains(line), "configure has " + line + ":\n" + configure);
        }
        assertTrue(configure.endsWith("replica.signal"), "signal file written before start");
        assertTrue(step(plan, "start").actions().get(0).startsWith("[polar] /opt/polardb/bin/pg_ctl start -D "
                + "/home/polar/replica1"));
        String all = plan.toString();
        assertFalse(all.contains("Repl-Secret-123"), "no replication password in the plan");
        assertFalse(all.contains("Super-Secret-456"), "no superuser password in the plan");
        assertFalse(all.contains("mkfs"), "scale-out never formats storage");
        assertTrue(primaryHost.commands.isEmpty() && replicaHost.commands.isEmpty(), "plan runs nothing");
    }

    @Test
    void aReplicaWithoutHostIdShowsTheChoiceToCome() {
        NodeSpec any = NodeSpec.builder().name("replica-2").host("10.0.0.2").port(5434)
                .dataDirectory(Path.of("/home/polar/replica-2")).build();
        List<PlannedStep> plan = ClusterScaler.forCluster(spec).planReplica(any);
        String configure = String.join("\n", step(plan, "configure").actions());
        assertTrue(configure.contains("polar_hostid=<lowest free>"), configure);
        assertTrue(configure.contains("primary_slot_name='replica_2'"), "the slot of replica-2: " + configure);
        assertTrue(configure.contains("application_name=replica-2"), configure);
        assertEquals(List.of("SELECT pg_create_physical_replication_slot('replica_2', true)"),
                step(plan, "create slot").actions());
    }

    @Test
    void standbyPlanUsesTheSlotAndNoPolarSettings() {
        NodeSpec standby = NodeSpec.builder().name("standby1").host("10.0.0.2").port(5433)
                .dataDirectory(Path.of("/home/polar/standby1")).build();
        List<PlannedStep> plan = ClusterScaler.forCluster(ClusterSpec.builder()
                .primary("primary", "10.0.0.1", 5432, Path.of("/home/polar/primary"))
                .host("10.0.0.1", primaryHost).host("10.0.0.2", replicaHost)
                .installation(spec.installation().orElseThrow()).osUser("polar").maxWalSenders(24).build())
                .planStandby(standby);
        assertEquals(List.of("lock", "recover", "check", "create slot", "allow replication", "base backup",
                "configure", "start", "verify recovery", "verify streaming", "verify canary", "register"),
                plan.stream().map(PlannedStep::name).toList());
        String configure = String.join("\n", step(plan, "configure").actions());
        assertTrue(configure.contains("primary_slot_name='standby1'"), configure);
        assertTrue(configure.contains("hot_standby=on"), configure);
        assertTrue(configure.contains("max_wal_senders=24"), "the spec's limit: " + configure);
        assertFalse(configure.contains("polar_"), configure);
        assertTrue(configure.endsWith("standby.signal"));
        String backup = String.join("\n", step(plan, "base backup").actions());
        assertTrue(backup.contains("[polar] /opt/polardb/bin/pg_basebackup -D /home/polar/standby1 -h 10.0.0.1 -p 5432 "
                + "-U polarscale_repl -S standby1 -X stream"), backup);
        assertTrue(primaryHost.commands.isEmpty() && replicaHost.commands.isEmpty(), "plan runs nothing");
    }

    @Test
    void deployPlanNamesEveryStepAndRunsNothing() {
        List<PlannedStep> plan = ClusterScaler.forCluster(spec).planDeployPrimary();
        assertEquals(List.of("check", "prepare storage", "initdb", "polar-initdb", "configure", "start",
                "replication role", "registry", "verify"), plan.stream().map(PlannedStep::name).toList());
        assertEquals("[polar] /opt/polardb/bin/polar-initdb.sh /home/polar/primary/ /home/polar/shared_data/ "
                + "primary localfs", step(plan, "polar-initdb").actions().get(0));
        String configure = String.join("\n", step(plan, "configure").actions());
        assertTrue(configure.contains("polar_hostid=1"), configure);
        assertTrue(configure.contains("max_wal_senders=16"), configure);
        assertFalse(plan.toString().contains("Super-Secret-456") || plan.toString().contains("Repl-Secret-123"));
        assertTrue(primaryHost.commands.isEmpty() && replicaHost.commands.isEmpty(), "plan runs nothing");
    }

    private final ClusterSpec pfsSpec = spec.toBuilder()
            .sharedStorage(SharedStorage.pfs(Pfs.builder().clusterName("disk").pfsdBinDir(Path.of("/opt/pfsd/bin"))
                    .workers(1).build(), PfsPath.of("/nvme1n1/shared_data"), 0))
            .build();

    @Test
    void pfsDeployPlanShowsEveryStorageStepAndNeverFormatsUnlessAsked() {
        List<PlannedStep> plan = ClusterScaler.forCluster(pfsSpec).planDeployPrimary();
        assertEquals(List.of("check", "prepare storage", "check storage", "shared directory", "initdb", "polar-initdb",
                "configure", "start", "replication role", "registry", "verify"),
                plan.stream().map(PlannedStep::name).toList());
        assertTrue(step(plan, "check").actions().contains("test -f /usr/local/bin/pfs  -- polar-initdb.sh runs pfs "
                + "from there"), step(plan, "check").toString());
        String prepare = step(plan, "prepare storage").toString();
        for (String line : List.of("lsblk -b -P -o NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT,PKNAME  -- /dev/nvme1n1",
                "[root] pfs -C disk -E 0 ls /nvme1n1/  -- holds a PFS file system, else refused (never formatted here)",
                "pgrep -f '[p]fsdaemon -p nvme1n1( |$)'", "[root] /opt/pfsd/bin/start_pfsd.sh -p nvme1n1 -w 1")) {
            assertTrue(prepare.contains(line), "prepare storage has " + line + ":\n" + prepare);
        }
        String check = step(plan, "check storage").toString();
        assertTrue(check.contains("[root] pfs -C disk ls /nvme1n1/shared_data/  -- absent or empty"), check);
        assertTrue(check.contains("[root] pfs -C disk info nvme1n1  -- at least 1550 free 4 MiB blocks"), check);
        assertEquals(List.of("[root] pfs -C disk stat /nvme1n1/shared_data  -- unless it exists: [root] pfs -C disk "
                + "mkdir /nvme1n1/shared_data"), step(plan, "shared directory").actions());
        List<String> initdb = step(plan, "polar-initdb").actions();
        assertEquals("[root] /opt/polardb/bin/polar-initdb.sh /home/polar/primary/ /nvme1n1/shared_data/ primary disk",
                initdb.get(0), "privileged: pfs cp opens the device");
        assertTrue(initdb.get(1).startsWith("[root] chown -R -h --from=root polar: /home/polar/primary  -- then stat: "
                + "the server user's, mode 700"), initdb.toString());
        String configure = String.join("\n", step(plan, "configure").actions());
        for (String line : List.of("polar_hostid=1", "polar_vfs.localfs_mode=off", "polar_storage_cluster_name='disk'",
                "polar_disk_name='nvme1n1'", "polar_datadir='/nvme1n1/shared_data/'")) {
            assertTrue(configure.contains(line), "configure has " + line + ":\n" + configure);
        }
        assertFalse(plan.toString().contains("mkfs"), "no format unless asked:\n" + plan);
        assertTrue(primaryHost.commands.isEmpty() && replicaHost.commands.isEmpty(), "plan runs nothing");
    }

    @Test
    void pfsDeployFormatsOnlyWhenAskedAndOnlyThroughTheGuard() {
        List<PlannedStep> plan = ClusterScaler.forCluster(pfsSpec)
                .planDeployPrimary(DeployOptions.defaults().withFormatEmptyDevice(true));
        assertEquals(List.of("check", "format storage", "prepare storage", "check storage", "shared directory", "initdb",
                "polar-initdb", "configure", "start", "replication role", "registry", "verify"),
                plan.stream().map(PlannedStep::name).toList());
        List<String> format = step(plan, "format storage").actions();
        assertTrue(format.get(0).startsWith("lsblk "), format.toString());
        assertTrue(format.contains("[root] blkid -p -o export /dev/nvme1n1  -- no file system or partition table "
                + "signature (exit 2)"), format.toString());
        assertEquals("[root] pfs -C disk mkfs nvme1n1  -- only when all of the above hold: DESTROYS what /dev/nvme1n1 "
                + "holds", format.get(format.size() - 1));
        assertEquals(1, plan.stream().filter(p -> p.toString().contains("mkfs")).count(), "mkfs in one step only");
        assertFalse(plan.toString().contains("mkfs -f"), "never forced");
        assertTrue(primaryHost.commands.isEmpty(), "plan runs nothing");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClusterScaler.forCluster(spec)
                .deployPrimary(DeployOptions.defaults().withFormatEmptyDevice(true)));
        assertTrue(e.getMessage().contains("needs PFS shared storage"), e.getMessage());
        assertTrue(primaryHost.commands.isEmpty(), "refused before anything ran");
    }

    @Test
    void pfsReplicaPlanMountsOnItsOwnHostAndNeverFormatsOrCreates() {
        List<PlannedStep> plan = ClusterScaler.forCluster(pfsSpec).planReplica(replica1);
        assertEquals(List.of("lock", "recover", "check", "mount storage", "create slot", "allow replication", "local directory",
                "polar-initdb", "config templates", "configure", "start", "verify recovery", "verify streaming",
                "verify canary", "register"), plan.stream().map(PlannedStep::name).toList());
        PlannedStep mount = step(plan, "mount storage");
        assertEquals("10.0.0.2", mount.host(), "pfsd is ensured on the replica's host");
        String m = mount.toString();
        assertTrue(m.contains("[root] /opt/pfsd/bin/start_pfsd.sh -p nvme1n1 -w 1"), m);
        assertTrue(m.contains("[root] pfs -C disk stat /nvme1n1/shared_data/global/pg_control  -- the cluster is there; "
                + "never created here"), m);
        assertFalse(plan.toString().contains("mkfs") || plan.toString().contains("mkdir /nvme1n1"), plan.toString());
        assertTrue(step(plan, "check").actions().contains("test -f /usr/local/bin/pfs  -- polar-initdb.sh runs pfs "
                + "from there"));
        assertEquals("[polar] /opt/polardb/bin/polar-initdb.sh /home/polar/replica1/ /nvme1n1/shared_data/ replica disk",
                step(plan, "polar-initdb").actions().get(0), "the replica's run stays the server user's");
        String configure = String.join("\n", step(plan, "configure").actions());
        for (String line : List.of("polar_hostid=2", "polar_vfs.localfs_mode=off", "polar_storage_cluster_name='disk'",
                "polar_disk_name='nvme1n1'", "polar_datadir='/nvme1n1/shared_data/'", "primary_slot_name='replica1'")) {
            assertTrue(configure.contains(line), "configure has " + line + ":\n" + configure);
        }
        assertTrue(configure.endsWith("replica.signal"));
        assertTrue(primaryHost.commands.isEmpty() && replicaHost.commands.isEmpty(), "plan runs nothing");
    }

    @Test
    void replicaNeedsSharedStorage() {
        ClusterSpec plain = ClusterSpec.builder()
                .primary("primary", "10.0.0.1", 5432, Path.of("/home/polar/primary"))
                .host("10.0.0.1", primaryHost).installation(new PgInstallation(Path.of("/opt/pg/bin")))
                .osUser("polar").build();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ClusterScaler.forCluster(plain).addReplica(NodeSpec.builder().name("r").port(5433)
                        .dataDirectory(Path.of("/d/r")).build()));
        assertTrue(e.getMessage().contains("addStandby"), e.getMessage());
        assertTrue(primaryHost.commands.isEmpty());
    }

    @Test
    void unknownHostIsRefusedBeforeAnything() {
        NodeSpec elsewhere = NodeSpec.builder().name("replica9").host("10.0.0.9").port(5433)
                .dataDirectory(Path.of("/home/polar/replica9")).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClusterScaler.forCluster(spec).planReplica(elsewhere));
        assertTrue(e.getMessage().contains("10.0.0.9"), e.getMessage());
    }

    @Test
    void adoptPlanTouchesTheDeclaredFollowerAfterTheLockAndRunsNothing() {
        AdoptOptions options = AdoptOptions.builder().follower(replica1, dev.polarscale.core.NodeRole.REPLICA).build();
        List<PlannedStep> plan = ClusterScaler.forCluster(spec).planAdopt(options);
        assertEquals(List.of("check", "allow control", "connect", "lock", "check declarations",
                "allow control on replica1", "replication role", "registry", "report"),
                plan.stream().map(PlannedStep::name).toList());
        assertEquals("10.0.0.2", step(plan, "allow control on replica1").host());
        assertEquals("test -f /home/polar/replica1/pg_hba.conf  -- a cluster is there",
                step(plan, "allow control on replica1").actions().get(0));
        String hba = String.join("\n", step(plan, "allow control").actions());
        assertTrue(hba.contains("LAST"), hba);
        assertTrue(hba.contains("host replication polarscale_repl 10.0.0.2/32 scram-sha-256"), hba);
        String all = plan.toString();
        assertFalse(all.contains("Repl-Secret-123"), "no replication password in the plan");
        assertFalse(all.contains("Super-Secret-456"), "no superuser password in the plan");
        assertTrue(primaryHost.commands.isEmpty() && replicaHost.commands.isEmpty(), "plan runs nothing");
    }

    @Test
    void twoFollowersDeclaredWithOneHostIdAreRefused() {
        NodeSpec twin = NodeSpec.builder().name("replica9").host("10.0.0.2").port(5439).hostId(2)
                .dataDirectory(Path.of("/home/polar/replica9")).build();
        AdoptOptions.Builder b = AdoptOptions.builder().follower(replica1, dev.polarscale.core.NodeRole.REPLICA);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.follower(twin, dev.polarscale.core.NodeRole.REPLICA));
        assertTrue(e.getMessage().contains("polar_hostid 2"), e.getMessage());
    }

    private static PlannedStep step(List<PlannedStep> plan, String name) {
        return plan.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }
}
