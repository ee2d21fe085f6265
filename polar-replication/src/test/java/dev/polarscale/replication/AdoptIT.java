package dev.polarscale.replication;

import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.rig.HostRig;
import dev.polarscale.core.rig.RigHost;
import dev.polarscale.core.rig.WithHostRig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Adopting a plain PostgreSQL 15 cluster PolarScale did not deploy, on three emulated hosts (the
 * {@link HostRig}), every command of the scaler through SSH. The cluster is made BY HAND the way an
 * operator makes one: on host A {@code initdb} with a superuser password, {@code scram-sha-256} for
 * host connections, listening on A's address only, one {@code pg_hba.conf} line letting host B
 * replicate as {@code postgres}, {@code pg_ctl start}; on host B {@code pg_basebackup -R -C -S
 * standby1} with {@code application_name=standby1}, started. The control machine's address is in
 * no {@code pg_hba.conf} line: until adopt, the scaler cannot even connect.
 *
 * <p>Then: an add before adopting is refused at once, saying to adopt; adopt declaring the standby
 * registers both nodes, leaves every node healthy and puts PolarScale's managed block LAST in the
 * primary's {@code pg_hba.conf}; adopting again changes nothing and a different declaration of the
 * same name is refused; a slot nobody declared is reported; a standby added on host C streams and
 * is removed again.
 */
@WithHostRig(hosts = 3)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdoptIT {
    private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    /** The same path on host A (the primary) and host B (the hand-made standby), as on real machines. */
    private static final Path MAIN = HostRig.DATA_DIR.resolve("main");
    private static final String SUPERUSER_PW = "adopt-super-" + Long.toHexString(System.nanoTime());
    private static final String HAND_MADE_HBA = "host replication postgres %s/32 scram-sha-256";

    private static HostRig rig;
    private static RigHost hostA;
    private static RigHost hostB;
    private static RigHost hostC;
    private static String a;
    private static String b;
    private static String c;
    private static final List<CommandExecutor> executors = new ArrayList<>();
    private static ClusterScaler scaler;

    @BeforeAll
    static void aClusterMadeByHand(HostRig r) {
        rig = r;
        hostA = r.host(0);
        hostB = r.host(1);
        hostC = r.host(2);
        a = hostA.address();
        b = hostB.address();
        c = hostC.address();
        assumeTrue(hostA.exec("test", "-x", BIN.resolve("postgres").toString()).succeeded(),
                "the hosts need PostgreSQL 15 at " + BIN);
        long t0 = System.nanoTime();

        // host A: the primary
        run(hostA, "install", "-d", "-o", "postgres", "-g", "postgres", "-m", "0700", MAIN.toString());
        run(hostA, "sh", "-c", "umask 077 && printf %s \"$1\" > /tmp/pw && chown postgres /tmp/pw", "sh", SUPERUSER_PW);
        asPostgres(hostA, BIN.resolve("initdb").toString(), "-D", MAIN.toString(), "-U", "postgres",
                "--pwfile=/tmp/pw", "--auth-local=peer", "--auth-host=scram-sha-256");
        run(hostA, "rm", "-f", "/tmp/pw");
        append(hostA, MAIN.resolve("postgresql.conf"), "listen_addresses = '" + a + "'\nport = 5432\n"
                + "unix_socket_directories = '/tmp'\n");
        append(hostA, MAIN.resolve("pg_hba.conf"), "# host B replicates as postgres (made by hand)\n"
                + HAND_MADE_HBA.formatted(b) + "\n");
        asPostgres(hostA, BIN.resolve("pg_ctl").toString(), "-D", MAIN.toString(), "-l", "/tmp/primary.log", "-w",
                "start");

        // host B: a standby, by pg_basebackup -R with a slot and its application_name
        run(hostB, "install", "-d", "-o", "postgres", "-g", "postgres", "-m", "0700", MAIN.toString());
        asPostgres(hostB, "env", "PGPASSWORD=" + SUPERUSER_PW, BIN.resolve("pg_basebackup").toString(),
                "-d", "host=" + a + " port=5432 user=postgres application_name=standby1",
                "-D", MAIN.toString(), "-R", "-C", "-S", "standby1", "-X", "stream", "--checkpoint=fast");
        append(hostB, MAIN.resolve("postgresql.conf"), "listen_addresses = '" + b + "'\n");
        asPostgres(hostB, BIN.resolve("pg_ctl").toString(), "-D", MAIN.toString(), "-l", "/tmp/standby.log", "-w",
                "start");
        awaitOnA("SELECT state FROM pg_stat_replication WHERE application_name = 'standby1'", "streaming");
        System.out.printf("hand-made primary on %s and standby on %s in %d ms%n", a, b,
                (System.nanoTime() - t0) / 1_000_000);

        ClusterSpec spec = ClusterSpec.builder()
                .primary("primary", a, 5432, MAIN)
                .host(a, executor(hostA)).host(b, executor(hostB)).host(c, executor(hostC))
                // PgInstallation.at(...) would check this (the control) machine's files
                .installation(new PgInstallation(BIN))
                .superuserPassword(SUPERUSER_PW)
                .verifyTimeout(Duration.ofSeconds(30))
                .build();
        scaler = ClusterScaler.forCluster(spec);
    }

    @AfterAll
    static void tearDown() {
        if (scaler != null) {
            scaler.close();
        }
        executors.forEach(CommandExecutor::close);
        // the rig kills whatever a host still runs when it closes; stop the servers cleanly first
        for (RigHost h : new RigHost[] {hostB, hostC, hostA}) {
            if (h != null && h.isRunning()) {
                h.exec("sh", "-c", "for d in " + HostRig.DATA_DIR + "/*/; do [ -f \"$d/postmaster.pid\" ] && "
                        + "runuser -u postgres -- " + BIN.resolve("pg_ctl") + " -D \"$d\" -m fast -w stop; done; true");
            }
        }
    }

    private static CommandExecutor executor(RigHost h) {
        CommandExecutor e = h.ssh();
        executors.add(e);
        return e;
    }

    private static String run(RigHost h, String... argv) {
        CommandResult r = h.exec(argv);
        assertEquals(0, r.exitCode(), h + " " + List.of(argv) + ": " + r.stderr() + r.stdout());
        return r.stdout();
    }

    private static String asPostgres(RigHost h, String... argv) {
        List<String> all = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        all.addAll(List.of(argv));
        return run(h, all.toArray(String[]::new));
    }

    private static void append(RigHost h, Path file, String text) {
        asPostgres(h, "sh", "-c", "printf %s \"$1\" >> \"$2\"", "sh", text, file.toString());
    }

    /** psql on host A as postgres over the Unix socket (peer), as the operator would. */
    private static String psqlOnA(String sql) {
        return asPostgres(hostA, BIN.resolve("psql").toString(), "-h", "/tmp", "-p", "5432", "-d", "postgres",
                "-XAtqc", sql).strip();
    }

    private static void awaitOnA(String sql, String expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String got = psqlOnA(sql);
        while (!got.equals(expected) && System.nanoTime() < deadline) {
            sleep(100);
            got = psqlOnA(sql);
        }
        assertEquals(expected, got, sql);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String primaryHba() {
        return run(hostA, "cat", MAIN.resolve("pg_hba.conf").toString());
    }

    private static List<String> slotsOnA() {
        String out = psqlOnA("SELECT slot_name FROM pg_replication_slots ORDER BY 1");
        return out.isEmpty() ? List.of() : out.lines().toList();
    }

    private static NodeSpec standby1(int port) {
        return NodeSpec.builder().name("standby1").host(b).port(port).dataDirectory(MAIN).build();
    }

    private static AdoptOptions declaringStandby1() {
        return AdoptOptions.builder().follower(standby1(5432), NodeRole.STANDBY).build();
    }

    private static NodeSpec standbyOnC() {
        return NodeSpec.builder().name("standby-c").host(c).port(5432).dataDirectory(HostRig.DATA_DIR.resolve("standby-c"))
                .build();
    }

    private static List<String> names(OperationReport r) {
        return r.steps().stream().map(OperationReport.StepTiming::step).toList();
    }

    @Test
    @Order(1)
    void anAddOnTheClusterBeforeAdoptIsRefusedAtOnceSayingToAdopt() {
        String hba = primaryHba();
        long t0 = System.nanoTime();
        PolarException e = assertThrows(PolarException.class, () -> scaler.addStandby(standbyOnC()));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("addStandby before adopt refused in %d ms: %s (%s)%n", ms, e.getMessage(), e.reason());
        assertTrue(ms < 20_000, "refused after " + ms + " ms");
        assertTrue(e.getMessage().contains("adopt"), "the message names adopt: " + e.getMessage());
        assertEquals(hba, primaryHba(), "pg_hba.conf untouched");
        assertEquals(List.of("standby1"), slotsOnA(), "no slot made");
        assertEquals("", psqlOnA("SELECT nspname FROM pg_namespace WHERE nspname = 'polarscale'"), "no schema made");
        assertEquals(1, hostC.exec("test", "-e", standbyOnC().dataDirectory().toString()).exitCode(),
                "nothing on host C");
    }

    @Test
    @Order(2)
    void adoptDeclaringTheHandMadeStandbyRegistersBothAndPutsItsHbaBlockLast() {
        List<PlannedStep> plan = scaler.planAdopt(declaringStandby1());
        plan.forEach(System.out::println);
        assertEquals(List.of("standby1"), slotsOnA(), "planning changed nothing");

        AdoptReport r = scaler.adopt(declaringStandby1());
        System.out.printf("adopt: %d ms, steps %s%n", r.operation().total().toMillis(), r.operation().steps());
        assertEquals(plan.stream().map(PlannedStep::name).toList(), names(r.operation()),
                "the run reports the planned steps");
        assertEquals(List.of("primary", "standby1"), r.registered());
        assertTrue(r.complete(), "every slot and walsender accounted for: " + r);

        ClusterStatus st = scaler.status();
        System.out.print(st.toTable());
        assertEquals(2, st.nodes().size(), st.toTable());
        assertTrue(st.node("primary").orElseThrow().healthy(), st.toTable());
        NodeStatus s1 = st.node("standby1").orElseThrow();
        assertTrue(s1.healthy(), st.toTable());
        assertEquals(NodeRole.STANDBY, s1.role());
        assertEquals(b, s1.host());

        assertEquals("t|t", psqlOnA("SELECT rolreplication, rolcanlogin FROM pg_roles WHERE rolname = "
                + "'polarscale_repl'"), "the replication role was created");
        List<String> lines = primaryHba().lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .toList();
        List<String> all = primaryHba().lines().map(String::strip).toList();
        int handMade = all.indexOf(HAND_MADE_HBA.formatted(b));
        int begin = all.indexOf("# BEGIN polarscale managed block");
        int end = all.indexOf("# END polarscale managed block");
        assertTrue(handMade >= 0 && begin > handMade && end > begin, "hand-made lines first, block after:\n"
                + primaryHba());
        assertEquals(all.size() - 1, end, "the managed block is LAST:\n" + primaryHba());
        assertTrue(all.subList(begin, end).contains("host all postgres " + rig.controlAddress()
                + "/32 scram-sha-256"), "the control machine's rule:\n" + primaryHba());
        assertEquals(lines.get(lines.size() - 1), all.get(end - 1), "nothing but the block after it");

        // the hand-made standby admits the control machine too (status connects to it), block last
        List<String> standby = run(hostB, "cat", MAIN.resolve("pg_hba.conf").toString()).lines().map(String::strip)
                .toList();
        int sBegin = standby.indexOf("# BEGIN polarscale managed block");
        assertTrue(sBegin > standby.indexOf(HAND_MADE_HBA.formatted(b)), String.join("\n", standby));
        assertEquals(standby.size() - 1, standby.indexOf("# END polarscale managed block"), String.join("\n", standby));
        assertEquals(List.of("host all postgres " + rig.controlAddress() + "/32 scram-sha-256"),
                standby.subList(sBegin + 1, standby.size() - 1).stream().filter(l -> !l.isEmpty()).toList());
    }

    @Test
    @Order(3)
    void adoptingAgainChangesNothingAndADifferentDeclarationIsRefused() {
        String hba = primaryHba();
        String standbyHba = run(hostB, "cat", MAIN.resolve("pg_hba.conf").toString());
        AdoptReport again = scaler.adopt(declaringStandby1());
        assertEquals(List.of("primary", "standby1"), again.registered());
        assertTrue(again.complete(), again.toString());
        assertEquals(hba, primaryHba(), "pg_hba.conf unchanged");
        assertEquals("2", psqlOnA("SELECT count(*) FROM polarscale.nodes"));

        String rows = psqlOnA("SELECT name, role, host, port, data_directory FROM polarscale.nodes ORDER BY name");
        ReplicationException e = assertThrows(ReplicationException.class, () -> scaler.adopt(
                AdoptOptions.builder().follower(standby1(5433), NodeRole.STANDBY).build()));
        System.out.println("a different declaration: " + e.getMessage());
        assertEquals(PolarException.Reason.NODE_EXISTS, e.reason(), e.getMessage());
        assertTrue(e.getMessage().contains("standby1"), e.getMessage());
        assertEquals(rows, psqlOnA("SELECT name, role, host, port, data_directory FROM polarscale.nodes ORDER BY name"),
                "the membership is unchanged");
        assertEquals(hba, primaryHba(), "pg_hba.conf unchanged");
        assertEquals(standbyHba, run(hostB, "cat", MAIN.resolve("pg_hba.conf").toString()),
                "the standby's pg_hba.conf unchanged");

        // the role adopt created is used again by a scaler with the same (generated) password, and
        // refused with another: its followers could not authenticate
        try (ClusterScaler same = ClusterScaler.forCluster(scaler.spec().toBuilder().build())) {
            assertTrue(same.adopt(declaringStandby1()).complete());
        }
        try (ClusterScaler other = ClusterScaler.forCluster(scaler.spec().toBuilder()
                .replicationPassword("another-replication-password").build())) {
            ReplicationException wrong = assertThrows(ReplicationException.class,
                    () -> other.adopt(declaringStandby1()));
            System.out.println("another replication password: " + wrong.getMessage());
            assertEquals(PolarException.Reason.AUTH_FAILED, wrong.reason(), wrong.getMessage());
            assertTrue(wrong.getMessage().contains("polarscale_repl"), wrong.getMessage());
        }
        assertEquals(rows, psqlOnA("SELECT name, role, host, port, data_directory FROM polarscale.nodes ORDER BY name"));
        assertEquals(hba, primaryHba(), "pg_hba.conf unchanged");
    }

    @Test
    @Order(4)
    void aSlotNobodyDeclaredIsReported() {
        psqlOnA("SELECT pg_create_physical_replication_slot('forgotten')");
        try {
            AdoptReport r = scaler.adopt(declaringStandby1());
            System.out.println("adopt with an undeclared slot: unknown slots " + r.unknownSlots() + ", streams "
                    + r.unknownStreams());
            assertFalse(r.complete());
            assertEquals(List.of("forgotten"), r.unknownSlots().stream().map(s -> s.name().value()).toList());
            assertEquals(List.of(), r.unknownStreams());
            assertEquals(List.of("primary", "standby1"), r.registered());
        } finally {
            psqlOnA("SELECT pg_drop_replication_slot('forgotten')");
        }
    }

    @Test
    @Order(5)
    void aStandbyAddedOnHostCStreamsAndIsRemoved() throws SQLException {
        OperationReport added = scaler.addStandby(standbyOnC());
        System.out.printf("addStandby on %s after adopt: %d ms%n", c, added.total().toMillis());
        try (Connection conn = scaler.primaryNode().connect(); Statement s = conn.createStatement()) {
            s.execute("CREATE TABLE adopted(id int)");
            s.execute("INSERT INTO adopted SELECT generate_series(1, 100)");
        }
        try (Connection conn = scaler.node("standby-c").connect()) {
            assertEquals(100, Procs.awaitCount(conn, "SELECT count(*) FROM adopted", 100, Duration.ofSeconds(10)));
        }
        ClusterStatus st = scaler.status();
        System.out.print(st.toTable());
        for (String n : List.of("primary", "standby1", "standby-c")) {
            assertTrue(st.node(n).orElseThrow().healthy(), st.toTable());
        }
        List<String> all = primaryHba().lines().map(String::strip).toList();
        assertTrue(all.indexOf(HAND_MADE_HBA.formatted(b)) < all.indexOf("# BEGIN polarscale managed block"),
                "the hand-made lines stay first:\n" + primaryHba());
        assertEquals(all.size() - 1, all.indexOf("# END polarscale managed block"), "the block stays last:\n"
                + primaryHba());
        assertTrue(all.contains("host replication polarscale_repl " + c + "/32 scram-sha-256"), primaryHba());

        scaler.removeNode("standby-c", RemoveOptions.defaults().withDeleteData(true));
        assertEquals(List.of("standby1"), slotsOnA());
        assertEquals(1, hostC.exec("test", "-e", standbyOnC().dataDirectory().toString()).exitCode(),
                "the directory on host C is gone");
        assertFalse(primaryHba().contains(c + "/32"), "host C's rule went with its node:\n" + primaryHba());
        all = primaryHba().lines().map(String::strip).toList();
        assertEquals(all.size() - 1, all.indexOf("# END polarscale managed block"), "the block stays last:\n"
                + primaryHba());
        ClusterStatus after = scaler.status();
        assertEquals(List.of("primary", "standby1"), after.nodes().stream().map(NodeStatus::name).toList());
        assertTrue(after.node("standby1").orElseThrow().healthy(), after.toTable());
    }
}
