package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PgBinaries;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PolarException.Reason;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.storage.DeviceName;
import dev.polarscale.storage.Pfs;
import dev.polarscale.storage.PfsClient;
import dev.polarscale.storage.PfsPath;
import dev.polarscale.storage.PfsSharedStorage;
import dev.polarscale.storage.SharedStorage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole PFS path through {@link ClusterScaler} on a real PolarDB-PG 15 with PFS, on a fresh
 * sparse 30 GiB loop device (and a 12 GiB one holding ext4): refusals that change nothing (an
 * unformatted device, ext4, a PFS formatting, another cluster's PFS), a failed deploy undone on
 * PFS, the deploy itself (plan and run the same steps; the privileged {@code polar-initdb.sh}
 * leaves the local directory the server user's, 0700), two replicas reading the primary's rows, a
 * failed and a crashed replica add cleaned up, scale-in, and DDL within 5 s. The tests run in
 * order, each starting from the state the previous one left. Disabled with the reason where the
 * engines bundle, root, loop devices or libaio are missing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(PfsRig.Required.class)
class PfsClusterIT {
    private static final String SUPERUSER_PW = "pfs-super-" + Long.toHexString(System.nanoTime());
    private static final String REPL_PW = "pfs-repl-" + Long.toHexString(System.nanoTime());

    private static PfsRig rig;
    private static CommandExecutor local;
    private static DeviceName dev;
    private static DeviceName ext4;
    private static Pfs pfs;
    private static PfsClient client;
    private static PfsSharedStorage storage;
    private static ClusterSpec spec;
    private static ClusterScaler scaler;
    private static final Steps steps = new Steps();
    private static final Map<String, Long> timings = new java.util.LinkedHashMap<>();

    /** Every step event, as "operation: step event". */
    private static final class Steps implements ScaleListener {
        final List<String> events = new CopyOnWriteArrayList<>();

        @Override
        public void stepFinished(String operation, String step, Duration took) {
            events.add(operation + ": " + step);
        }

        @Override
        public void stepFailed(String operation, String step, Throwable cause) {
            events.add(operation + ": " + step + " FAILED");
        }

        @Override
        public void stepUndone(String operation, String step) {
            events.add(operation + ": " + step + " undone");
        }

        List<String> of(String operation) {
            String p = operation + ": ";
            return events.stream().filter(e -> e.startsWith(p)).map(e -> e.substring(p.length())).toList();
        }
    }

    @BeforeAll
    static void devices() throws IOException {
        rig = PfsRig.create("polarscale-pfs-it-");
        local = Executors.local();
        dev = rig.loopDevice("pfs", "30G");
        ext4 = rig.loopDevice("ext4", "12G");
        local.run(Command.of("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=1,lazy_journal_init=1",
                ext4.devicePath()).withTimeout(Duration.ofMinutes(1)));
        pfs = PfsRig.pfs();
        client = pfs.on(local);
        storage = SharedStorage.pfs(pfs, PfsPath.root(dev).resolve("shared_data"), 0);
        spec = spec("primary", storage, steps);
        scaler = ClusterScaler.forCluster(spec);
    }

    private static ClusterSpec spec(String primary, SharedStorage s, ScaleListener listener) {
        return ClusterSpec.builder()
                .primary(primary, "127.0.0.1", Procs.freePort(), rig.base.resolve(primary))
                .installation(PgInstallation.at(PfsRig.polarBin()))
                .sharedStorage(s)
                .templateCache(PgBinaries.cacheDirectory().resolve("templates"))
                .superuserPassword(SUPERUSER_PW).replicationPassword(REPL_PW)
                .verifyTimeout(Duration.ofSeconds(60))
                .listener(listener)
                .build();
    }

    @AfterAll
    static void tearDown() {
        try {
            if (scaler != null) {
                try {
                    for (NodeStatus n : scaler.status().nodes()) {
                        if (n.role() != NodeRole.PRIMARY) {
                            scaler.removeNode(n.name(), RemoveOptions.defaults().withDeleteData(true));
                        }
                    }
                } finally {
                    PostgresNode primary = scaler.primaryNode();
                    scaler.close();
                    primary.stop();
                }
            }
        } finally {
            System.out.println("PfsClusterIT timings (ms): " + timings);
            if (rig != null) {
                rig.close(); // stops whatever still runs under its base, pfsd, loop devices, images, link
                if (dev != null) {
                    assertFalse(PfsRig.pfsdRunning(dev), "pfsd left running");
                }
            }
            if (local != null) {
                local.close();
            }
        }
    }

    private static <T> T timed(String what, Supplier<T> action) {
        long t0 = System.nanoTime();
        try {
            return action.get();
        } finally {
            timings.put(what, (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /** Nothing of a deploy in {@code dir}: no data directory, no server. */
    private static void assertNoPrimary(Path dir) throws InterruptedException {
        assertFalse(Files.exists(dir), dir + " left");
        assertEquals("", Procs.awaitNoProcess(dir.toString()), "server left for " + dir);
    }

    private static String blkidType(DeviceName d) {
        return local.run(Command.of("blkid", "-p", "-o", "export", d.devicePath()).withTimeout(Duration.ofSeconds(30)))
                .stdout().lines().filter(l -> l.startsWith("TYPE=")).findFirst().orElse("");
    }

    @Test
    @Order(1)
    void anUnformattedOrExt4DeviceIsRefusedWithNothingChanged() throws Exception {
        PolarException fresh = assertThrows(PolarException.class, () -> scaler.deployPrimary());
        assertEquals(Reason.DEVICE_NOT_FORMATTED, fresh.reason(), fresh.getMessage());
        assertTrue(fresh.getMessage().contains(dev.devicePath() + " holds no PFS file system (and no other file system)")
                && fresh.getMessage().contains("DeployOptions.defaults().withFormatEmptyDevice(true)"), fresh.getMessage());
        assertEquals(List.of("check", "prepare storage FAILED"), steps.of("deployPrimary primary"));
        assertFalse(client.isFormatted(dev), "not formatted");
        assertFalse(PfsRig.pfsdRunning(dev), "no pfsd started for an unformatted device");
        assertNoPrimary(spec.primaryDataDirectory());

        SharedStorage onExt4 = SharedStorage.pfs(pfs, PfsPath.root(ext4).resolve("shared_data"), 0);
        for (DeployOptions options : List.of(DeployOptions.defaults(), DeployOptions.defaults().withFormatEmptyDevice(true))) {
            ClusterSpec s = spec("primary_ext4", onExt4, ScaleListener.NONE);
            try (ClusterScaler other = ClusterScaler.forCluster(s)) {
                PolarException e = assertThrows(PolarException.class, () -> other.deployPrimary(options));
                assertEquals(Reason.DEVICE_NOT_EMPTY, e.reason(), e.getMessage());
                assertTrue(e.getMessage().contains("TYPE=ext4"), e.getMessage());
            }
            assertEquals("TYPE=ext4", blkidType(ext4), "ext4 untouched with " + options);
            assertFalse(PfsRig.pfsdRunning(ext4));
            assertNoPrimary(s.primaryDataDirectory());
        }
    }

    @Test
    @Order(2)
    void aDeployThatFailsAfterPolarInitdbIsUndoneOnPfsToo() throws Exception {
        DeployOptions format = DeployOptions.defaults().withFormatEmptyDevice(true);
        List<String> plan = scaler.planDeployPrimary(format).stream().map(PlannedStep::name).toList();
        ClusterSpec faulty = spec.toBuilder().listener(new ScaleListener() {
            @Override
            public void stepStarted(String operation, String step) {
                if (step.equals("replication role")) {
                    throw new IllegalStateException("injected fault before the replication role");
                }
            }

            @Override
            public void stepFinished(String operation, String step, Duration took) {
                steps.stepFinished(operation + " (faulty)", step, took);
            }

            @Override
            public void stepUndone(String operation, String step) {
                steps.stepUndone(operation + " (faulty)", step);
            }
        }).build();
        try (ClusterScaler s = ClusterScaler.forCluster(faulty)) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> timed("failed deploy with format", () ->
                    s.deployPrimary(format)));
            assertTrue(e.getMessage().contains("injected fault"), e.getMessage());
        }
        List<String> ran = steps.of("deployPrimary primary (faulty)");
        int role = plan.indexOf("replication role");
        List<String> expected = new ArrayList<>(plan.subList(0, role));
        expected.addAll(List.of("start undone", "polar-initdb undone", "initdb undone"));
        assertEquals(expected, ran, "the plan's steps ran in its order, then the undo");
        assertTrue(client.isFormatted(dev), "formatted (that is not undone)");
        assertTrue(storage.exists(local));
        assertEquals(List.of(), storage.list(local), "what polar-initdb.sh wrote onto PFS is gone");
        assertTrue(PfsRig.pfsdRunning(dev), "pfsd stays: it serves every node of the host");
        assertNoPrimary(spec.primaryDataDirectory());
    }

    @Test
    @Order(3)
    void formattingADeviceThatHoldsPfsIsRefused() {
        PolarException busy = assertThrows(PolarException.class,
                () -> scaler.deployPrimary(DeployOptions.defaults().withFormatEmptyDevice(true)));
        assertEquals(Reason.DEVICE_STATE_UNKNOWN, busy.reason(), busy.getMessage());
        assertTrue(busy.getMessage().contains("refusing to format " + dev.devicePath() + ": pfsd runs for it"),
                busy.getMessage());
        PfsRig.stopPfsd(dev);
        PolarException formatted = assertThrows(PolarException.class,
                () -> scaler.deployPrimary(DeployOptions.defaults().withFormatEmptyDevice(true)));
        assertEquals(Reason.DEVICE_NOT_EMPTY, formatted.reason(), formatted.getMessage());
        assertTrue(formatted.getMessage().contains("it already holds a PFS file system"), formatted.getMessage());
        assertTrue(storage.exists(local), "the PFS is still there");
        assertFalse(PfsRig.pfsdRunning(dev));
    }

    @Test
    @Order(4)
    void deployRunsThePlannedStepsStartsPfsdAndLeavesTheLocalDirectoryTheServerUsers() throws Exception {
        List<String> plan = scaler.planDeployPrimary().stream().map(PlannedStep::name).toList();
        OperationReport r = timed("deploy", () -> scaler.deployPrimary());
        assertEquals(plan, r.steps().stream().map(OperationReport.StepTiming::step).toList(), "plan = run");
        assertTrue(PfsRig.pfsdRunning(dev), "deploy started pfsd");

        Path dir = spec.primaryDataDirectory();
        String user = scaler.primaryNode().osUser().orElseThrow();
        assertEquals(user, Files.getOwner(dir).getName());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        try (Stream<Path> all = Files.walk(dir)) {
            assertEquals(List.of(), all.filter(p -> !owner(p).equals(user)).map(Path::toString).toList(),
                    "every local file is " + user + "'s after the privileged polar-initdb.sh");
        }
        assertFalse(Files.exists(dir.resolve("pg_wal")), "pg_wal lives on PFS");
        assertTrue(storage.list(local).containsAll(List.of("base", "global", "pg_wal", "pg_xact")), storage.list(local).toString());
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement()) {
            for (String[] guc : new String[][] {{"polar_vfs.localfs_mode", "off"}, {"polar_storage_cluster_name", "disk"},
                    {"polar_disk_name", dev.name()}, {"polar_datadir", "/" + dev + "/shared_data/"}}) {
                try (ResultSet rs = s.executeQuery("SELECT current_setting('" + guc[0] + "')")) {
                    rs.next();
                    assertEquals(guc[1], rs.getString(1), guc[0]);
                }
            }
        }
        ClusterStatus status = scaler.status();
        System.out.print(status.toTable());
        StorageStatus st = status.storage("127.0.0.1").orElseThrow();
        assertEquals(java.util.Optional.of(dev.devicePath()), st.device());
        assertEquals(java.util.Optional.of(true), st.pfsdRunning());
        assertTrue(st.healthy());
        assertTrue(status.toTable().contains(dev.devicePath() + "     running"), status.toTable());
    }

    @Test
    @Order(5)
    void aSecondClusterOnThatPfsIsRefusedWithNothingChanged() throws Exception {
        List<String> before = storage.list(local);
        ClusterSpec elsewhere = spec("primary2", SharedStorage.pfs(pfs, PfsPath.root(dev).resolve("other_data"), 0),
                ScaleListener.NONE);
        ClusterSpec same = spec("primary3", storage, ScaleListener.NONE);
        try (ClusterScaler s2 = ClusterScaler.forCluster(elsewhere); ClusterScaler s3 = ClusterScaler.forCluster(same)) {
            PolarException other = assertThrows(PolarException.class, s2::deployPrimary);
            assertEquals(Reason.STORAGE_INVALID, other.reason(), other.getMessage());
            assertTrue(other.getMessage().contains("already holds data outside /" + dev + "/other_data: /" + dev
                    + "/ has shared_data"), other.getMessage());
            PolarException full = assertThrows(PolarException.class, s3::deployPrimary);
            assertEquals(Reason.DIRECTORY_NOT_EMPTY, full.reason(), full.getMessage());
        }
        assertFalse(client.exists(PfsPath.root(dev).resolve("other_data")), "nothing created on PFS");
        assertEquals(before, storage.list(local));
        assertNoPrimary(elsewhere.primaryDataDirectory());
        assertNoPrimary(same.primaryDataDirectory());
        assertTrue(scaler.status().node("primary").orElseThrow().healthy());
    }

    private static NodeSpec node(String name) {
        return NodeSpec.builder().name(name).port(Procs.freePort()).dataDirectory(rig.base.resolve(name)).build();
    }

    @Test
    @Order(6)
    void twoReplicasReadThePrimarysRows() throws SQLException {
        for (String name : List.of("replica1", "replica2")) {
            NodeSpec n = node(name);
            List<String> plan = scaler.planReplica(n).stream().map(PlannedStep::name).toList();
            OperationReport r = timed("add " + name, () -> scaler.addReplica(n));
            assertEquals(plan, r.steps().stream().map(OperationReport.StepTiming::step).toList(), "plan = run");
        }
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE orders(id int PRIMARY KEY, item text)");
            s.execute("INSERT INTO orders SELECT i, 'item ' || i FROM generate_series(1, 1000) i");
        }
        for (String n : List.of("replica1", "replica2")) {
            try (Connection c = scaler.node(n).connect()) {
                assertEquals(1000, Procs.awaitCount(c, "SELECT count(*) FROM orders", 1000, Duration.ofSeconds(10)), n);
            }
        }
        ClusterStatus status = scaler.status();
        System.out.print(status.toTable());
        for (NodeStatus n : status.nodes()) {
            assertTrue(n.healthy(), status.toTable());
        }
        assertEquals(1, status.storage().size(), "one host");
        assertTrue(status.storage().get(0).healthy(), status.toTable());
    }

    @Test
    @Order(7)
    void aFailedAndACrashedReplicaAddAreCleanedUpAndTheRetrySucceeds() throws Exception {
        NodeSpec n = node("replica3");
        ClusterSpec faulty = spec.toBuilder().listener(new ScaleListener() {
            @Override
            public void stepStarted(String operation, String step) {
                if (step.equals("verify recovery")) {
                    throw new IllegalStateException("injected fault after start");
                }
            }
        }).build();
        try (ClusterScaler s = ClusterScaler.forCluster(faulty)) {
            assertThrows(IllegalStateException.class, () -> s.addReplica(n));
        }
        assertNothingLeft(n);

        Path out = rig.base.resolve("child-replica3.out");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), CrashingOperationMain.class.getName(),
                "op=addReplica", "haltAfter=start", "primaryPort=" + spec.primaryPort(),
                "primaryDir=" + spec.primaryDataDirectory(), "node=" + n.name(), "nodePort=" + n.port(),
                "nodeDir=" + n.dataDirectory(), "polardb=" + PfsRig.polarBin(),
                "templates=" + spec.templateCache().orElseThrow(), "pfsDir=" + storage.directory(),
                "pfsCluster=" + pfs.clusterName(), "pfsBin=" + PfsRig.pfsBin()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("POLARSCALE_SUPERUSER_PASSWORD", SUPERUSER_PW);
        pb.environment().put("POLARSCALE_REPLICATION_PASSWORD", REPL_PW);
        Process child = pb.start();
        assertTrue(child.waitFor(3, TimeUnit.MINUTES), "the child JVM ended");
        assertEquals(CrashingOperationMain.HALTED, child.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        assertTrue(Procs.pgrep(n.dataDirectory().toString()).contains("postgres"), "the crashed add left its server");

        OperationReport retry = timed("add replica3 after a crash", () -> scaler.addReplica(n));
        assertTrue(scaler.status().node("replica3").orElseThrow().healthy());
        System.out.printf("addReplica on PFS halted after start; the retry (undo, then add) took %d ms%n",
                retry.total().toMillis());
    }

    private static void assertNothingLeft(NodeSpec n) throws Exception {
        assertTrue(scaler.status().node(n.name()).isEmpty(), n.name() + " registered");
        assertTrue(scaler.slots().get(n.slotName()).isEmpty(), n.name() + ": slot left");
        assertEquals("", Procs.awaitNoProcess(n.dataDirectory().toString()), n.name() + ": process left");
        assertFalse(Files.exists(n.dataDirectory()), n.name() + ": directory left");
    }

    @Test
    @Order(8)
    void scaleInOfEveryReplicaLeavesDdlOnThePrimaryWorkingWithin5Seconds() throws Exception {
        for (String name : List.of("replica1", "replica2", "replica3")) {
            Assumptions.assumeTrue(scaler.status().node(name).isPresent(), name + " was not added");
            timed("remove " + name, () -> scaler.removeNode(name, RemoveOptions.defaults().withDeleteData(true)));
            assertNothingLeft(NodeSpec.builder().name(name).port(5432).dataDirectory(rig.base.resolve(name)).build());
        }
        assertEquals(List.of(), scaler.slots().list(), "no slot left on the primary");
        long t0 = System.nanoTime();
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement()) {
            s.execute("SET statement_timeout = '5s'");
            s.execute("CREATE TABLE after_scale_in(id int)");
            s.execute("ALTER TABLE orders ADD COLUMN note text");
            s.execute("DROP TABLE after_scale_in");
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        timings.put("DDL after scale-in", ms);
        assertTrue(ms < 5_000, "DDL took " + ms + " ms");
        ClusterStatus status = scaler.status();
        assertEquals(1, status.nodes().size(), status.toTable());
        assertTrue(status.storage("127.0.0.1").orElseThrow().healthy(), status.toTable());
    }

    private static String owner(Path p) {
        try {
            return Files.getOwner(p, LinkOption.NOFOLLOW_LINKS).getName();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
