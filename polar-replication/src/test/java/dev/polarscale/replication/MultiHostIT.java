package dev.polarscale.replication;

import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.rig.HostRig;
import dev.polarscale.core.rig.WithHostRig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cluster over three emulated hosts (network and mount namespaces, each with its own sshd):
 * every command through SSH with the rig's Ed25519 key, every JDBC connection to a host's own
 * address. The primary on host A, a standby on host B; a standby on a host the deploy never named
 * (its replication rule appears, then goes); a standby added by a JVM that sees no PostgreSQL;
 * then host B dies: status() reports it, removal refuses without force and with force drops the
 * slot so the primary keeps no WAL for it.
 */
@WithHostRig(hosts = 3)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiHostIT {
    private static final PgInstallation PG = new PgInstallation(Path.of("/usr/lib/postgresql/15/bin"));
    private static final Path DATA = HostRig.DATA_DIR;
    private static final String SUPERUSER_PW = "multi-super-" + Long.toHexString(System.nanoTime());
    private static final String REPL_PW = "multi-repl-" + Long.toHexString(System.nanoTime());

    private static HostRig rig;
    private static String a;
    private static String b;
    private static String c;
    private static final List<CommandExecutor> executors = new ArrayList<>();
    private static ClusterSpec spec;
    private static ClusterScaler scaler;

    @BeforeAll
    static void hosts(HostRig r) {
        rig = r;
        a = r.host(0).address();
        b = r.host(1).address();
        c = r.host(2).address();
        spec = ClusterSpec.builder()
                .primary("primary", a, 5432, DATA.resolve("primary"))
                .host(a, executor(0)).host(b, executor(1))
                .installation(PG).superuserPassword(SUPERUSER_PW).replicationPassword(REPL_PW)
                .verifyTimeout(Duration.ofSeconds(30)).build();
        scaler = ClusterScaler.forCluster(spec);
    }

    private static CommandExecutor executor(int host) {
        CommandExecutor e = rig.host(host).ssh();
        executors.add(e);
        return e;
    }

    @AfterAll
    static void tearDown() {
        if (scaler != null) {
            try {
                scaler.primaryNode().stop();
            } catch (RuntimeException e) {
                System.out.println("primary stop at teardown: " + e);
            }
            scaler.close();
        }
        executors.forEach(CommandExecutor::close);
    }

    private static NodeSpec node(String name, String host) {
        return NodeSpec.builder().name(name).host(host).port(5432).dataDirectory(DATA.resolve(name)).build();
    }

    private static List<String> hbaBlock() {
        return scaler.primaryNode().readFile("pg_hba.conf").lines().dropWhile(l -> !l.contains("BEGIN polarscale"))
                .skip(1).takeWhile(l -> !l.contains("END polarscale")).toList();
    }

    @Test
    @Order(1)
    void aPrimaryOnHostAAndAStandbyOnHostBAllThroughSsh() throws SQLException {
        scaler.deployPrimary();
        OperationReport r = scaler.addStandby(node("standby-b", b));
        System.out.printf("deploy on %s, standby on %s: add took %d ms%n", a, b, r.total().toMillis());
        try (Connection conn = scaler.primaryNode().connect(); Statement s = conn.createStatement()) {
            s.execute("CREATE TABLE multi(id int)");
            s.execute("INSERT INTO multi SELECT generate_series(1, 100)");
            try (ResultSet rs = s.executeQuery("SELECT host(inet_client_addr())")) {
                rs.next();
                assertEquals(rig.controlAddress(), rs.getString(1), "the control machine connects from its address");
            }
        }
        try (Connection conn = scaler.node("standby-b").connect()) {
            assertEquals(100, Procs.awaitCount(conn, "SELECT count(*) FROM multi", 100, Duration.ofSeconds(10)));
        }
        ClusterStatus st = scaler.status();
        System.out.print(st.toTable());
        assertTrue(st.node("primary").orElseThrow().healthy());
        assertTrue(st.node("standby-b").orElseThrow().healthy());
        assertEquals(b, st.node("standby-b").orElseThrow().host());
        List<String> block = hbaBlock();
        assertTrue(block.contains("host replication polarscale_repl " + a + "/32 scram-sha-256"), block.toString());
        assertTrue(block.contains("host replication polarscale_repl " + b + "/32 scram-sha-256"), block.toString());
        assertTrue(block.contains("host all postgres " + rig.controlAddress() + "/32 scram-sha-256"),
                "the control machine's superuser rule: " + block);
        assertFalse(block.toString().contains(c), "no rule for a host without a node: " + block);
    }

    @Test
    @Order(2)
    void aStandbyOnAHostTheDeployNeverNamedGetsItsRuleThenLosesIt() {
        try (CommandExecutor onC = rig.host(2).ssh();
             ClusterScaler wider = ClusterScaler.forCluster(spec.toBuilder().host(c, onC).build())) {
            wider.addStandby(node("standby-c", c));
            assertTrue(wider.status().node("standby-c").orElseThrow().healthy());
            assertTrue(hbaBlock().contains("host replication polarscale_repl " + c + "/32 scram-sha-256"),
                    "the rule appeared: " + hbaBlock());
            wider.removeNode("standby-c", RemoveOptions.defaults().withDeleteData(true));
            assertFalse(hbaBlock().toString().contains(c + "/32"), "the rule went with the host's last node: "
                    + hbaBlock());
            assertTrue(hbaBlock().contains("host replication polarscale_repl " + b + "/32 scram-sha-256"),
                    "host B keeps its rule: " + hbaBlock());
            assertEquals(1, rig.host(2).exec("test", "-e", DATA.resolve("standby-c").toString()).exitCode(),
                    "the directory on host C is gone");
        }
    }

    @Test
    @Order(3)
    void aControlJvmWithoutPostgresAddsAStandbyOnARemoteHost() throws Exception {
        Path out = Files.createTempFile("remote-add-", ".out");
        List<String> cmd = new ArrayList<>(rig.withoutServerBinaries());
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), RemoteAddMain.class.getName(), "primary=" + a,
                "primaryDir=" + DATA.resolve("primary"), "host=" + c, "node=standby-c2", "port=5432",
                "dir=" + DATA.resolve("standby-c2"), "key=" + rig.clientKeyFile(), "knownHosts=" + rig.knownHostsFile()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("POLARSCALE_SUPERUSER_PASSWORD", SUPERUSER_PW);
        pb.environment().put("POLARSCALE_REPLICATION_PASSWORD", REPL_PW);
        Process child = pb.start();
        assertTrue(child.waitFor(3, TimeUnit.MINUTES), "the child JVM ended");
        String output = Files.readString(out, StandardCharsets.UTF_8);
        Files.delete(out);
        System.out.println(output.lines().filter(l -> l.startsWith("LOCAL") || l.startsWith("RESULT")
                || l.startsWith("BINARIES")).toList());
        assertTrue(output.contains("LOCAL /usr/lib/postgresql exists: false"), "the child sees no PostgreSQL:\n"
                + output);
        assertTrue(output.contains("RESULT ok"), output);
        try (CommandExecutor onC = rig.host(2).ssh();
             ClusterScaler wider = ClusterScaler.forCluster(spec.toBuilder().host(c, onC).build())) {
            assertTrue(wider.status().node("standby-c2").orElseThrow().healthy());
            wider.removeNode("standby-c2", RemoveOptions.defaults().withDeleteData(true));
        }
    }

    @Test
    @Order(4)
    void aDeadHostIsReportedAndItsNodeForceRemovedReleasingItsWal() throws SQLException {
        rig.kill(rig.host(1));
        try (Connection conn = scaler.primaryNode().connect(); Statement s = conn.createStatement()) {
            s.execute("INSERT INTO multi SELECT generate_series(1, 100000)");
            s.execute("SELECT pg_switch_wal()");
            s.execute("CHECKPOINT");
        }
        long t0 = System.nanoTime();
        ClusterStatus st = scaler.status();
        System.out.printf("status with host B dead took %d ms:%n%s", (System.nanoTime() - t0) / 1_000_000,
                st.toTable());
        NodeStatus dead = st.node("standby-b").orElseThrow();
        assertFalse(dead.reachable(), dead.toString());
        assertTrue(dead.error().isPresent(), dead.toString());
        assertTrue(st.node("primary").orElseThrow().healthy(), "the rest of the cluster is reported as it is");
        SlotInfo held = scaler.slots().get(NodeSpec.builder().name("standby-b").port(1).dataDirectory(DATA)
                .build().slotName()).orElseThrow();
        assertTrue(held.retainedBytes() > 0, "the dead node's slot keeps WAL: " + held);

        ReplicationException refused = assertThrows(ReplicationException.class,
                () -> scaler.removeNode("standby-b", RemoveOptions.defaults()));
        System.out.println("without force: " + refused.getMessage());
        assertTrue(refused.reason() == PolarException.Reason.HOST_UNREACHABLE
                || refused.reason() == PolarException.Reason.CONNECTION_LOST, refused.toString());
        assertTrue(refused.getMessage().contains("withForce"), refused.getMessage());
        assertTrue(scaler.slots().get(held.name()).isPresent(), "nothing changed without force");

        t0 = System.nanoTime();
        OperationReport forced = scaler.removeNode("standby-b", RemoveOptions.defaults().withForce(true)
                .withDeleteData(true));
        System.out.printf("forced removal of the node on the dead host: %d ms, steps %s%n",
                (System.nanoTime() - t0) / 1_000_000, forced.steps());
        assertTrue(scaler.slots().get(held.name()).isEmpty(), "slot dropped");
        assertEquals(List.of(), scaler.slots().list(), "no slot keeps WAL on the primary");
        assertTrue(scaler.status().node("standby-b").isEmpty(), "unregistered");
        assertFalse(hbaBlock().toString().contains(b + "/32"), "host B's rule is gone: " + hbaBlock());
    }
}
