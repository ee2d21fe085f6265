package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException;
import dev.polarscale.storage.SharedStorage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Adopting a PolarDB-PG 15 cluster built BY HAND with the tutorial's steps (in their PolarDB 15
 * forms, local-file-system mode, every command as the {@code postgres} OS user): a primary made
 * by {@code initdb} and {@code polar-initdb.sh ... primary localfs}, and a replica made by
 * {@code polar-initdb.sh ... replica localfs}, config files from a throw-away {@code initdb},
 * {@code polar_hostid=2}, its slot created first, {@code replica.signal}. The replica's host id is
 * unknown to PolarScale until it is declared: before that an add without a host id is refused
 * naming the replica's slot; after it, two replicas get host ids no other node holds, read the
 * primary's rows, are removed, and DDL on the primary completes within 5 s.
 */
@EnabledIfEnvironmentVariable(named = "POLARDB_HOME", matches = ".+",
        disabledReason = "POLARDB_HOME not set: no PolarDB-PG installation to adopt a hand-made cluster of")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PolarAdoptIT {
    private static final String SUPERUSER_PW = "polar-adopt-" + Long.toHexString(System.nanoTime());

    private static Path home;
    private static Path base;
    private static Path primaryDir;
    private static Path sharedDir;
    private static Path replica1Dir;
    private static Path logs;
    private static int primaryPort;
    private static int replica1Port;
    private static ClusterScaler scaler;

    @BeforeAll
    static void aClusterBuiltWithTheTutorialsSteps() throws IOException {
        home = Path.of(System.getenv("POLARDB_HOME"));
        assumeTrue(Files.isExecutable(home.resolve("bin/polar-initdb.sh")), "POLARDB_HOME=" + home
                + " has no bin/polar-initdb.sh");
        assumeTrue(Executors.local().execute(Command.of("id", "postgres")).succeeded(),
                "the hand-made cluster runs as the OS user postgres, which does not exist here");
        base = Files.createTempDirectory("polarscale-adopt-polar-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        primaryDir = base.resolve("primary");
        sharedDir = base.resolve("shared_data");
        replica1Dir = base.resolve("replica1");
        logs = base.resolve("logs");
        primaryPort = Procs.freePort();
        replica1Port = Procs.freePort();
        long t0 = System.nanoTime();

        // A4-A9: the primary
        Path template = base.resolve("template");
        for (Path d : List.of(primaryDir, sharedDir, replica1Dir, template, logs)) {
            run("install", "-d", "-o", "postgres", "-g", "postgres", "-m", "0700", d.toString());
        }
        Path pw = base.resolve("pw");
        run("sh", "-c", "umask 077 && printf %s \"$1\" > \"$2\" && chown postgres \"$2\"", "sh", SUPERUSER_PW,
                pw.toString());
        asPostgres(bin("initdb"), "-D", primaryDir.toString(), "-U", "postgres", "--pwfile=" + pw);
        run("rm", "-f", pw.toString());
        asPostgres(bin("polar-initdb.sh"), primaryDir + "/", sharedDir + "/", "primary", "localfs");
        append(primaryDir.resolve("postgresql.conf"), sharedStorageConf() + "port=" + primaryPort + "\n"
                + "polar_hostid=1\n");
        asPostgres(bin("pg_ctl"), "-D", primaryDir.toString(), "-l", logs.resolve("primary.log").toString(), "-w",
                "start");

        // B3-B9: a replica by hand, its slot first
        psql("SELECT pg_create_physical_replication_slot('replica1')");
        asPostgres(bin("polar-initdb.sh"), replica1Dir + "/", sharedDir + "/", "replica", "localfs");
        asPostgres(bin("initdb"), "-D", template.toString(), "-U", "postgres");
        asPostgres("sh", "-c", "cp \"$1\"/*.conf \"$2\"/", "sh", template.toString(), replica1Dir.toString());
        run("rm", "-rf", template.toString());
        append(replica1Dir.resolve("postgresql.conf"), sharedStorageConf() + "port=" + replica1Port + "\n"
                + "polar_hostid=2\n"
                + "primary_conninfo='host=127.0.0.1 port=" + primaryPort + " user=postgres dbname=postgres "
                + "application_name=replica1'\n"
                + "primary_slot_name='replica1'\n");
        asPostgres("touch", replica1Dir.resolve("replica.signal").toString());
        asPostgres(bin("pg_ctl"), "-D", replica1Dir.toString(), "-l", logs.resolve("replica1.log").toString(), "-w",
                "start");
        awaitPsql("SELECT state FROM pg_stat_replication WHERE application_name = 'replica1'", "streaming");
        System.out.printf("hand-made PolarDB primary (port %d) and replica1 (port %d, hostid 2) in %d ms%n",
                primaryPort, replica1Port, (System.nanoTime() - t0) / 1_000_000);

        ClusterSpec spec = ClusterSpec.builder()
                .primary("primary", "127.0.0.1", primaryPort, primaryDir)
                .installation(PgInstallation.at(home.resolve("bin")))
                .sharedStorage(SharedStorage.localFileSystem(sharedDir, "postgres"))
                .superuserPassword(SUPERUSER_PW)
                .verifyTimeout(Duration.ofSeconds(60))
                .build();
        scaler = ClusterScaler.forCluster(spec);
    }

    /** polardb-facts.md, "Configuration that works", both nodes (listening on loopback only: a shared machine). */
    private static String sharedStorageConf() {
        return "polar_enable_shared_storage_mode=on\n"
                + "polar_disk_name='" + sharedDir.getName(0) + "'\n"
                + "polar_datadir='file-dio://" + sharedDir + "/'\n"
                + "polar_vfs.localfs_mode=on\n"
                + "shared_preload_libraries='$libdir/polar_vfs,$libdir/polar_worker'\n"
                + "logging_collector=on\n"
                + "log_line_prefix='%p\\t%r\\t%u\\t%m\\t'\n"
                + "log_directory='pg_log'\n"
                + "listen_addresses='127.0.0.1'\n"
                + "max_connections=1000\n";
    }

    /** Every server under the test's directory stopped (followers first), then the directory deleted. */
    @AfterAll
    static void tearDown() {
        if (scaler != null) {
            scaler.close();
        }
        if (base == null) {
            return;
        }
        List<Path> servers = new ArrayList<>();
        try (var dirs = Files.list(base)) {
            dirs.filter(d -> Files.exists(d.resolve("postmaster.pid"))).sorted().forEach(servers::add);
        } catch (IOException e) {
            System.out.println("cannot list " + base + ": " + e);
        }
        servers.sort((x, y) -> Boolean.compare(x.equals(primaryDir), y.equals(primaryDir)));
        for (Path d : servers) {
            CommandResult r = Executors.local().execute(Command.of("runuser", "-u", "postgres", "--", bin("pg_ctl"),
                    "-D", d.toString(), "-m", "fast", "-w", "stop").withTimeout(Duration.ofMinutes(1)));
            System.out.println("stop " + d + ": exit " + r.exitCode());
        }
        Executors.local().run(Command.of("rm", "-rf", "--", base.toString()).withTimeout(Duration.ofMinutes(2)));
    }

    private static String bin(String tool) {
        return home.resolve("bin").resolve(tool).toString();
    }

    private static String run(String... argv) {
        CommandResult r = Executors.local().execute(Command.of(List.of(argv)).withTimeout(Duration.ofMinutes(2)));
        assertEquals(0, r.exitCode(), List.of(argv) + ": " + r.stderr() + r.stdout());
        return r.stdout();
    }

    private static String asPostgres(String... argv) {
        List<String> all = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        all.addAll(List.of(argv));
        return run(all.toArray(String[]::new));
    }

    private static void append(Path file, String text) {
        asPostgres("sh", "-c", "printf %s \"$1\" >> \"$2\"", "sh", text, file.toString());
    }

    /** psql on the primary as postgres, as the operator would. */
    private static String psql(String sql) {
        return asPostgres(bin("psql"), "-h", "127.0.0.1", "-p", Integer.toString(primaryPort), "-U", "postgres",
                "-d", "postgres", "-XAtqc", sql).strip();
    }

    private static void awaitPsql(String sql, String expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String got = psql(sql);
        while (!got.equals(expected) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            got = psql(sql);
        }
        assertEquals(expected, got, sql);
    }

    private static List<String> slots() {
        String out = psql("SELECT slot_name FROM pg_replication_slots ORDER BY 1");
        return out.isEmpty() ? List.of() : out.lines().toList();
    }

    private static NodeSpec newReplica(String name) {
        return NodeSpec.builder().name(name).port(Procs.freePort()).dataDirectory(base.resolve(name)).build();
    }

    private static AdoptOptions declaringReplica1() {
        return AdoptOptions.builder().follower(NodeSpec.builder().name("replica1").port(replica1Port)
                .dataDirectory(replica1Dir).hostId(2).build(), NodeRole.REPLICA).build();
    }

    @Test
    @Order(1)
    void anAddBeforeAdoptIsRefusedNamingAdopt() {
        PolarException e = assertThrows(PolarException.class, () -> scaler.addReplica(newReplica("replica2")));
        System.out.println("addReplica before adopt: " + e.getMessage());
        assertEquals(PolarException.Reason.NOT_ADOPTED, e.reason(), e.getMessage());
        assertTrue(e.getMessage().contains("ClusterScaler.adopt"), e.getMessage());
        assertEquals("", psql("SELECT nspname FROM pg_namespace WHERE nspname = 'polarscale'"), "no schema made");
        assertEquals(List.of("replica1"), slots());
        assertFalse(Files.exists(base.resolve("replica2")));

        // a removal would drop the hand-made replica's slot as one "no node owns": refused too
        PolarException remove = assertThrows(PolarException.class,
                () -> scaler.removeNode("replica1", RemoveOptions.defaults()));
        assertEquals(PolarException.Reason.NOT_ADOPTED, remove.reason(), remove.getMessage());
        assertEquals(List.of("replica1"), slots());
        ClusterStatus st = scaler.status();
        assertEquals(1, st.nodes().size(), st.toTable());
        assertTrue(st.nodes().get(0).error().orElseThrow().contains("ClusterScaler.adopt"), st.toTable());
        assertEquals("", psql("SELECT nspname FROM pg_namespace WHERE nspname = 'polarscale'"), "no schema made");
    }

    @Test
    @Order(2)
    void adoptWithoutDeclaringTheReplicaReportsItsSlotAndAnAddWithoutHostIdIsRefused() {
        AdoptReport r = scaler.adopt(AdoptOptions.none());
        System.out.println("adopt, replica1 undeclared: unknown slots " + r.unknownSlots() + ", streams "
                + r.unknownStreams());
        assertFalse(r.complete());
        assertEquals(List.of("primary"), r.registered());
        assertEquals(List.of("replica1"), r.unknownSlots().stream().map(s -> s.name().value()).toList());
        assertEquals(List.of("replica1@127.0.0.1 streaming"), r.unknownStreams());

        String hba = run("cat", primaryDir.resolve("pg_hba.conf").toString());
        ReplicationException e = assertThrows(ReplicationException.class,
                () -> scaler.addReplica(newReplica("replica2")));
        System.out.println("addReplica without a host id: " + e.getMessage());
        assertEquals(PolarException.Reason.HOST_ID_TAKEN, e.reason(), e.getMessage());
        assertTrue(e.getMessage().contains("replica1"), "names the unknown node's slot: " + e.getMessage());
        assertEquals(List.of("replica1"), slots(), "no slot made");
        assertFalse(Files.exists(base.resolve("replica2")), "no directory made");
        assertEquals("primary", psql("SELECT string_agg(name, ',') FROM polarscale.nodes"), "nobody registered");
        assertEquals(hba, run("cat", primaryDir.resolve("pg_hba.conf").toString()), "pg_hba.conf unchanged");
    }

    @Test
    @Order(3)
    void adoptDeclaringTheReplicaThenTwoAddedReplicasGetFreshHostIdsAndScaleInLeavesDdlWorking() throws SQLException {
        List<PlannedStep> plan = scaler.planAdopt(declaringReplica1());
        AdoptReport r = scaler.adopt(declaringReplica1());
        assertTrue(r.complete(), r.toString());
        assertEquals(List.of("primary", "replica1"), r.registered());
        assertEquals(plan.stream().map(PlannedStep::name).toList(),
                r.operation().steps().stream().map(OperationReport.StepTiming::step).toList());
        assertTrue(scaler.status().node("replica1").orElseThrow().healthy(), scaler.status().toTable());

        OperationReport a2 = scaler.addReplica(newReplica("replica2"));
        OperationReport a3 = scaler.addReplica(newReplica("replica3"));
        System.out.printf("addReplica after adopt: %d ms and %d ms%n", a2.total().toMillis(), a3.total().toMillis());
        Set<Integer> ids = new TreeSet<>(List.of(1, 2));
        for (String n : List.of("replica2", "replica3")) {
            try (Connection c = scaler.node(n).connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_setting('polar_hostid')::int")) {
                rs.next();
                int id = rs.getInt(1);
                System.out.println(n + " runs with polar_hostid " + id);
                assertNotEquals(1, id, n + " has the primary's host id");
                assertNotEquals(2, id, n + " has the hand-made replica's host id");
                assertTrue(ids.add(id), n + "'s host id " + id + " is taken: " + ids);
            }
        }
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE adopted(id int)");
            s.execute("INSERT INTO adopted SELECT generate_series(1, 10)");
        }
        for (String n : List.of("replica1", "replica2", "replica3")) {
            try (Connection c = scaler.node(n).connect()) {
                assertEquals(10, Procs.awaitCount(c, "SELECT count(*) FROM adopted", 10, Duration.ofSeconds(10)), n);
            }
        }
        ClusterStatus st = scaler.status();
        System.out.print(st.toTable());
        st.nodes().forEach(n -> assertTrue(n.healthy(), st.toTable()));

        for (String n : List.of("replica2", "replica3")) {
            scaler.removeNode(n, RemoveOptions.defaults().withDeleteData(true));
            assertFalse(Files.exists(base.resolve(n)), n + "'s directory");
        }
        assertEquals(List.of("replica1"), slots());
        long t0 = System.nanoTime();
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement()) {
            s.execute("SET statement_timeout = '5s'");
            s.execute("CREATE TABLE after_scale_in(id int)");
            s.execute("DROP TABLE after_scale_in");
        }
        System.out.printf("DDL on the primary after scale-in: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        ClusterStatus after = scaler.status();
        assertEquals(List.of("primary", "replica1"), after.nodes().stream().map(NodeStatus::name).toList());
        after.nodes().forEach(n -> assertTrue(n.healthy(), after.toTable()));
    }
}
