package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;
import dev.polarscale.core.NodeState;
import dev.polarscale.core.PgBinaries;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Standbys copied from a standby ({@link NodeSpec.Builder#cloneFrom}) on real PostgreSQL 15: the
 * copy is read from standby1, the slot is on the primary, and the new standby streams from the
 * primary. Every command runs through a recording executor, so the test sees the exact
 * {@code pg_basebackup} argv that ran ({@code -h}/{@code -p} of standby1, no {@code -S},
 * {@code --max-rate}). Skipped where the server binaries have no {@code pg_basebackup} (the
 * embedded ones).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CloneStandbyIT {
    /** Runs commands on this machine and remembers them. */
    private static final class Recording implements CommandExecutor {
        final List<Command> commands = new CopyOnWriteArrayList<>();
        private final CommandExecutor local = Executors.local();

        @Override
        public String host() {
            return local.host();
        }

        @Override
        public CommandResult execute(Command command) {
            commands.add(command);
            return local.execute(command);
        }

        List<List<String>> runs(String program) {
            return commands.stream().map(Command::argv).filter(a -> a.get(0).endsWith("/" + program)).toList();
        }
    }

    private static final Recording RECORDING = new Recording();
    /** What the test wants done when a step starts: (operation, step). */
    private static final AtomicReference<BiConsumer<String, String>> HOOK = new AtomicReference<>();
    private static Path base;
    private static ClusterScaler scaler;

    @BeforeAll
    static void deploy() throws IOException, SQLException {
        assumeTrue(PgBinaries.locate().has("pg_basebackup"), "the server binaries " + PgBinaries.locate().binDir()
                + " have no pg_basebackup, which a copy from a standby needs");
        base = Files.createTempDirectory("polarscale-clone-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        ClusterSpec spec = ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Procs.freePort(), base.resolve("primary"))
                .host("127.0.0.1", RECORDING)
                .verifyTimeout(Duration.ofSeconds(30))
                .listener(new ScaleListener() {
                    @Override
                    public void stepStarted(String operation, String step) {
                        BiConsumer<String, String> hook = HOOK.get();
                        if (hook != null) {
                            hook.accept(operation, step);
                        }
                    }
                })
                .build();
        scaler = ClusterScaler.forCluster(spec);
        scaler.deployPrimary();
        scaler.addStandby(spec("standby1").build());
        exec(scaler.primaryNode(), "CREATE TABLE t(id int)", "INSERT INTO t SELECT generate_series(1, 100)");
    }

    @AfterAll
    static void tearDown() throws InterruptedException {
        if (scaler == null) {
            return;
        }
        try {
            for (NodeStatus n : scaler.status().nodes()) {
                if (!n.name().equals("primary")) {
                    scaler.removeNode(n.name(), RemoveOptions.defaults().withDeleteData(true));
                }
            }
            PostgresNode primary = scaler.primaryNode();
            scaler.close();
            primary.stop();
            primary.deleteDataDirectory();
            assertEquals(NodeState.NO_DATA_DIRECTORY, primary.status());
        } finally {
            Executors.local().run(Command.of("rm", "-rf", "--", base.toString()));
        }
        assertEquals("", Procs.awaitNoProcess(base.toString()), "no process of the cluster is left running");
        assertFalse(Files.exists(base), "nothing is left on disk");
    }

    private static NodeSpec.Builder spec(String name) {
        return NodeSpec.builder().name(name).port(Procs.freePort()).dataDirectory(base.resolve(name));
    }

    @Test
    @Order(1)
    void aStandbyClonedFromAStandbyStreamsFromThePrimary() throws SQLException {
        PostgresNode standby1 = scaler.node("standby1");
        // an upstream in standby1's postgresql.auto.conf (as pg_basebackup -R leaves one) must not reach the copy
        exec(standby1, "ALTER SYSTEM SET primary_slot_name = 'standby1'");
        NodeSpec clone1 = spec("clone1").cloneFrom("standby1").build();

        List<PlannedStep> plan = scaler.planStandby(clone1);
        plan.forEach(System.out::println);
        assertEquals(List.of("lock", "recover", "check", "create slot", "allow replication", "allow clone",
                "wait for source", "base backup", "configure", "start", "verify recovery", "verify streaming",
                "verify canary", "register"), plan.stream().map(PlannedStep::name).toList());
        assertTrue(plan.indexOf(step(plan, "create slot")) < plan.indexOf(step(plan, "base backup")),
                "the slot on the primary comes first");
        String planned = step(plan, "base backup").actions().get(1);
        assertTrue(planned.contains(" -h 127.0.0.1 -p " + standby1.port() + " -U polarscale_repl -X stream"), planned);
        assertFalse(planned.contains(" -S "), "the slot is on the primary, not on standby1: " + planned);
        assertFalse(planned.contains("--max-rate"), planned);

        RECORDING.commands.clear();
        OperationReport r = scaler.addStandby(clone1);
        List<List<String>> copies = RECORDING.runs("pg_basebackup");
        assertEquals(1, copies.size(), "one copy ran: " + copies);
        List<String> argv = copies.get(0);
        assertEquals(String.valueOf(standby1.port().value()), argv.get(argv.indexOf("-p") + 1), "copied from standby1");
        assertFalse(argv.contains("-S"), argv.toString());
        assertTrue(argv.stream().noneMatch(a -> a.startsWith("--max-rate")), argv.toString());
        assertTrue(planned.contains(String.join(" ", argv)), "the plan shows the command that ran: " + planned
                + "\n" + argv);
        System.out.printf("clone1 from standby1: %d ms (%s)%n", r.total().toMillis(), r.steps());

        assertStreamsFromThePrimary("clone1");
        try (Connection c = standby1.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_replication_slots")) {
            rs.next();
            assertEquals(0, rs.getInt(1), "pg_basebackup's temporary slot on standby1 is gone");
        }
        exec(standby1, "ALTER SYSTEM RESET primary_slot_name");
    }

    @Test
    @Order(2)
    void aRateLimitedCloneFromASourceWithoutTheRule() throws SQLException {
        PostgresNode standby1 = scaler.node("standby1");
        // standby1 admits the superuser over TCP (status, checks) but no replication connection
        standby1.writeFile("pg_hba.conf", "local all all peer\nhost all all 127.0.0.1/32 scram-sha-256\n");
        reload(standby1);
        SQLException refused = assertThrows(SQLException.class, () -> replicationConnect(standby1).close());
        assertTrue(refused.getMessage().contains("no pg_hba.conf entry for replication connection"),
                refused.getMessage());

        NodeSpec clone2 = spec("clone2").cloneFrom("standby1").maxRate(100 * 1024).build();
        String planned = step(scaler.planStandby(clone2), "base backup").actions().get(1);
        assertTrue(planned.contains("--max-rate=102400"), planned);
        RECORDING.commands.clear();
        scaler.addStandby(clone2);
        List<String> argv = RECORDING.runs("pg_basebackup").get(0);
        assertTrue(argv.contains("--max-rate=102400"), "the rate limit reached the command that ran: " + argv);
        assertEquals(String.valueOf(standby1.port().value()), argv.get(argv.indexOf("-p") + 1));
        assertStreamsFromThePrimary("clone2");

        String hba = standby1.readFile("pg_hba.conf");
        assertTrue(hba.contains("# BEGIN polarscale managed block\nhost replication polarscale_repl 127.0.0.1/32 "
                + "scram-sha-256\n# END polarscale managed block"), hba);
        replicationConnect(standby1).close();
    }

    @Test
    @Order(3)
    void aSourceBehindThePrimarysCheckpointIsWaitedFor() throws Exception {
        PostgresNode standby1 = scaler.node("standby1");
        exec(standby1, "SELECT pg_wal_replay_pause()");
        // a checkpoint standby1 has not replayed: its restartpoint, where a copy starts, stays before it
        exec(scaler.primaryNode(), "INSERT INTO t SELECT generate_series(101, 200)", "CHECKPOINT");
        Thread[] resumer = new Thread[1];
        HOOK.set((op, step) -> {
            if (op.equals("addStandby clone3") && step.equals("wait for source")) {
                resumer[0] = new Thread(() -> {
                    try {
                        Thread.sleep(1000);
                        exec(standby1, "SELECT pg_wal_replay_resume()");
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                resumer[0].start();
            }
        });
        OperationReport r;
        try {
            r = scaler.addStandby(spec("clone3").cloneFrom("standby1").build());
        } finally {
            HOOK.set(null);
            if (resumer[0] != null) {
                resumer[0].join();
            } else {
                exec(standby1, "SELECT pg_wal_replay_resume()");
            }
        }
        Duration waited = r.steps().stream().filter(s -> s.step().equals("wait for source")).findFirst()
                .orElseThrow().took();
        assertTrue(waited.toMillis() >= 900, "waited until standby1 replayed the checkpoint: " + waited);
        assertStreamsFromThePrimary("clone3");
        try (Connection c = scaler.node("clone3").connect()) {
            assertEquals(200, Procs.awaitCount(c, "SELECT count(*) FROM t", 200, Duration.ofSeconds(10)));
        }
        scaler.removeNode("clone3", RemoveOptions.defaults().withDeleteData(true));
    }

    @Test
    @Order(4)
    void anUnfitSourceIsRefusedBeforeAnyChange() {
        RECORDING.commands.clear();
        ReplicationException missing = assertThrows(ReplicationException.class,
                () -> scaler.addStandby(spec("clone9").cloneFrom("nosuch").build()));
        assertEquals(PolarException.Reason.NODE_NOT_FOUND, missing.reason());
        assertTrue(missing.getMessage().contains("'nosuch'"), missing.getMessage());
        assertNothingOf("clone9");

        IllegalArgumentException primary = assertThrows(IllegalArgumentException.class,
                () -> scaler.addStandby(spec("clone9").cloneFrom("primary").build()));
        assertTrue(primary.getMessage().contains("leave cloneFrom out"), primary.getMessage());

        PostgresNode clone1 = scaler.node("clone1");
        clone1.stop();
        try {
            PolarException down = assertThrows(PolarException.class,
                    () -> scaler.addStandby(spec("clone9").cloneFrom("clone1").build()));
            assertEquals(PolarException.Reason.SERVER_UNREACHABLE, down.reason(), down.getMessage());
            assertTrue(down.getMessage().contains("cannot clone from standby clone1"), down.getMessage());
            assertNothingOf("clone9");
        } finally {
            clone1.start();
        }
    }

    /** No slot, directory, membership row or journal row of the node; no copy ran. */
    private static void assertNothingOf(String name) {
        assertTrue(scaler.slots().get(SlotName.of(name)).isEmpty(), "no slot " + name);
        assertFalse(Files.exists(base.resolve(name)), "no directory " + name);
        assertTrue(scaler.status().node(name).isEmpty(), name + " is not registered");
        assertTrue(RECORDING.runs("pg_basebackup").isEmpty(), "no copy ran");
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM polarscale.operations")) {
            rs.next();
            assertEquals(0, rs.getInt(1), "no journal row");
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    /** The primary streams to the node through its slot; the node's walreceiver is connected to the primary. */
    private static void assertStreamsFromThePrimary(String name) throws SQLException {
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT r.state, s.active FROM pg_stat_replication r JOIN "
                     + "pg_replication_slots s ON s.active_pid = r.pid WHERE r.application_name = '" + name + "'")) {
            assertTrue(rs.next(), name + " streams from the primary");
            assertEquals("streaming", rs.getString(1));
            assertTrue(rs.getBoolean(2), "its slot on the primary is active");
        }
        try (Connection c = scaler.node(name).connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT sender_port, slot_name, status FROM pg_stat_wal_receiver")) {
            assertTrue(rs.next(), name + " has a walreceiver");
            assertEquals(scaler.spec().primaryPort().value(), rs.getInt(1), "its upstream is the primary");
            assertEquals(name, rs.getString(2));
            assertEquals("streaming", rs.getString(3));
        }
        try (Connection c = scaler.node("standby1").connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_replication")) {
            rs.next();
            assertEquals(0, rs.getInt(1), "nothing streams from standby1");
        }
        assertTrue(scaler.status().node(name).orElseThrow().healthy());
        exec(scaler.primaryNode(), "INSERT INTO t VALUES (-1)");
        try (Connection c = scaler.node(name).connect()) {
            assertEquals(1, Procs.awaitCount(c, "SELECT count(*) FROM t WHERE id = -1", 1, Duration.ofSeconds(10)));
        }
        exec(scaler.primaryNode(), "DELETE FROM t WHERE id = -1");
    }

    private static Connection replicationConnect(PostgresNode node) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", scaler.spec().replicationUser());
        p.setProperty("password", scaler.spec().replicationPassword());
        p.setProperty("replication", "true");
        p.setProperty("assumeMinServerVersion", "9.4");
        p.setProperty("preferQueryMode", "simple");
        return DriverManager.getConnection(node.jdbcUrl(), p);
    }

    private static void reload(PostgresNode node) {
        node.executor().run(node.serverCommand("pg_ctl", "reload", "-D", node.dataDirectory().toString()));
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static PlannedStep step(List<PlannedStep> plan, String name) {
        return plan.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }

    private static void exec(PostgresNode node, String... sql) throws SQLException {
        try (Connection c = node.connect(); Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }
}
