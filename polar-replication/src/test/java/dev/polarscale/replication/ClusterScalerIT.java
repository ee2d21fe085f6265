package dev.polarscale.replication;

import dev.polarscale.core.PolarException;
import dev.polarscale.core.Command;
import dev.polarscale.core.Executors;
import dev.polarscale.core.NodeState;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scaler on real PostgreSQL 15 servers: one primary, standbys added and removed. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterScalerIT {
    private static Path base;
    private static ClusterScaler scaler;

    @BeforeAll
    static void deploy() throws IOException {
        base = Files.createTempDirectory("polarscale-scaler-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        ClusterSpec spec = ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Procs.freePort(), base.resolve("primary"))
                .verifyTimeout(Duration.ofSeconds(30))
                .build();
        scaler = ClusterScaler.forCluster(spec);
        OperationReport r = scaler.deployPrimary();
        assertTrue(r.steps().stream().anyMatch(s -> s.step().equals("initdb")));
    }

    @AfterAll
    static void tearDown() {
        if (scaler != null) {
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
        }
        Executors.local().run(Command.of("rm", "-rf", "--", base.toString()));
        assertEquals(1, Executors.local().execute(Command.of("pgrep", "-f", base.toString())).exitCode(),
                "no process of the cluster is left running");
        assertFalse(Files.exists(base), "nothing is left on disk");
    }

    private static NodeSpec spec(String name) {
        return NodeSpec.builder().name(name).port(Procs.freePort()).dataDirectory(base.resolve(name)).build();
    }

    /**
     * A deploy into a directory that holds the user's files is refused before anything runs: the
     * initdb step's undo deletes its directory, so it must never get one with something in it
     * (it did: a file there was gone after the refused deploy). With and without the template.
     */
    @Test
    @Order(0)
    void deployIntoADirectoryWithFilesTouchesNothing() throws IOException {
        for (boolean template : new boolean[] {false, true}) {
            Path dir = Files.createDirectories(base.resolve("occupied-" + template));
            Path precious = Files.writeString(dir.resolve("precious.txt"), "the user's");
            ClusterSpec.Builder b = ClusterSpec.builder().primary("occupied", "127.0.0.1", Procs.freePort(), dir)
                    .verifyTimeout(Duration.ofSeconds(30));
            if (template) {
                b.templateCache(Files.createDirectories(base.resolve("templates")));
            }
            try (ClusterScaler s = ClusterScaler.forCluster(b.build())) {
                ReplicationException e = assertThrows(ReplicationException.class, s::deployPrimary);
                assertEquals(PolarException.Reason.DIRECTORY_NOT_EMPTY, e.reason(), e.getMessage());
                assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
            }
            assertEquals("the user's", Files.readString(precious), "template " + template);
            try (java.util.stream.Stream<Path> left = Files.list(dir)) {
                assertEquals(List.of(precious), left.toList(), "template " + template);
            }
        }
    }

    @Test
    @Order(1)
    void twoStandbysStreamAndServeData() throws SQLException {
        NodeSpec s1 = spec("standby1");
        NodeSpec s2 = spec("standby2");
        OperationReport r1 = scaler.addStandby(s1);
        OperationReport r2 = scaler.addStandby(s2);
        assertTrue(r1.canaryLag().compareTo(Duration.ZERO) > 0);
        System.out.printf("add standby1 %d ms, standby2 %d ms; canary lag %d µs / %d µs%n",
                r1.total().toMillis(), r2.total().toMillis(), r1.canaryLag().toNanos() / 1000,
                r2.canaryLag().toNanos() / 1000);

        exec(scaler.primaryNode(), "CREATE TABLE t(id int)", "INSERT INTO t SELECT generate_series(1, 10)");
        for (String n : List.of("standby1", "standby2")) {
            try (Connection c = scaler.node(n).connect()) {
                assertEquals(10, Procs.awaitCount(c, "SELECT count(*) FROM t", 10, Duration.ofSeconds(10)), n);
            }
            assertThrows(SQLException.class, () -> exec(scaler.node(n), "INSERT INTO t VALUES (11)"),
                    n + " is read-only");
        }
        ClusterStatus status = scaler.status();
        System.out.print(status.toTable());
        assertEquals(3, status.nodes().size());
        for (String n : List.of("standby1", "standby2")) {
            NodeStatus ns = status.node(n).orElseThrow();
            assertTrue(ns.healthy(), ns.toString());
            assertEquals("streaming", ns.replication().orElseThrow());
        }
        assertTrue(status.node("primary").orElseThrow().healthy());
    }

    @Test
    @Order(2)
    void removeAndAddBack() {
        OperationReport rm = scaler.removeNode("standby2", RemoveOptions.defaults().withDeleteData(true));
        assertTrue(scaler.slots().get(SlotName.of("standby2")).isEmpty(), "slot dropped");
        assertFalse(Files.exists(base.resolve("standby2")), "data deleted");
        assertTrue(scaler.status().node("standby2").isEmpty());
        System.out.println("remove standby2: " + rm.total().toMillis() + " ms");

        scaler.addStandby(spec("standby2"));
        assertTrue(scaler.status().node("standby2").orElseThrow().healthy());
    }

    @Test
    @Order(3)
    void duplicatesAreRefusedBeforeAnySideEffect() {
        int slotsBefore = scaler.slots().list().size();
        NodeStatus s1 = scaler.status().node("standby1").orElseThrow();
        // the very same add again (as after a crash that followed its register step) is already done
        OperationReport again = scaler.addStandby(NodeSpec.builder().name("standby1").port(s1.port())
                .dataDirectory(base.resolve("standby1")).build());
        assertEquals(List.of("lock", "recover", "check"),
                again.steps().stream().map(OperationReport.StepTiming::step).toList(), "nothing but the check ran");
        assertTrue(scaler.status().node("standby1").orElseThrow().healthy());
        ReplicationException name = assertThrows(ReplicationException.class,
                () -> scaler.addStandby(spec("standby1")));
        assertTrue(name.getMessage().contains("already exists"), name.getMessage());
        assertEquals(PolarException.Reason.NODE_EXISTS, name.reason());
        ReplicationException port = assertThrows(ReplicationException.class,
                () -> scaler.addStandby(NodeSpec.builder().name("other").port(s1.port())
                        .dataDirectory(base.resolve("other")).build()));
        assertTrue(port.getMessage().contains("port " + s1.port()), port.getMessage());
        assertEquals(PolarException.Reason.PORT_IN_USE, port.reason());
        scaler.slots().create(SlotName.of("orphan"));
        ReplicationException slot = assertThrows(ReplicationException.class,
                () -> scaler.addStandby(spec("orphan")));
        assertTrue(slot.getMessage().contains("slot 'orphan' already exists"), slot.getMessage());
        assertEquals(PolarException.Reason.SLOT_EXISTS, slot.reason());
        scaler.removeNode("orphan", RemoveOptions.defaults());
        assertEquals(slotsBefore, scaler.slots().list().size());
        assertFalse(Files.exists(base.resolve("other")));
        assertFalse(Files.exists(base.resolve("orphan")));
    }

    @Test
    @Order(4)
    void takenPortFailsAndLeavesNothing() throws IOException {
        try (ServerSocket blocker = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            NodeSpec s = NodeSpec.builder().name("blocked").port(blocker.getLocalPort())
                    .dataDirectory(base.resolve("blocked")).build();
            ReplicationException e = assertThrows(ReplicationException.class, () -> scaler.addStandby(s));
            assertTrue(e.getMessage().contains("already in use"), e.getMessage());
            assertEquals(PolarException.Reason.PORT_IN_USE, e.reason());
            assertEquals(Optional.of("blocked"), e.node());
        }
        assertTrue(scaler.slots().get(SlotName.of("blocked")).isEmpty());
        assertFalse(Files.exists(base.resolve("blocked")));
    }

    @Test
    @Order(5)
    void failureAfterStartIsUndoneAndARetrySucceeds() {
        NodeSpec s = spec("standby3");
        ClusterSpec failing = scaler.spec().toBuilder().listener(new ScaleListener() {
            @Override
            public void stepStarted(String operation, String step) {
                if (step.equals("verify streaming")) {
                    throw new IllegalStateException("injected failure at " + step);
                }
            }
        }).build();
        try (ClusterScaler broken = ClusterScaler.forCluster(failing)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> broken.addStandby(s));
            assertTrue(e.getMessage().contains("injected"), e.getMessage());
        }
        assertTrue(scaler.slots().get(SlotName.of("standby3")).isEmpty(), "slot undone");
        assertFalse(Files.exists(base.resolve("standby3")), "directory undone");
        assertTrue(scaler.status().node("standby3").isEmpty());
        // nothing listens on its port any more
        assertThrows(IOException.class, () -> new java.net.Socket("127.0.0.1", s.port().value()).close());

        scaler.addStandby(s);
        assertTrue(scaler.status().node("standby3").orElseThrow().healthy());
        scaler.removeNode("standby3", RemoveOptions.defaults().withDeleteData(true));
    }

    @Test
    @Order(6)
    void killedStandbyIsReported() throws Exception {
        PostgresNode s1 = scaler.node("standby1");
        Procs.killPostmaster(s1.dataDirectory());
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        NodeStatus st;
        do {
            Thread.sleep(100);
            st = scaler.status().node("standby1").orElseThrow();
        } while ((st.reachable() || st.slotActive().orElse(true)) && System.nanoTime() < deadline);
        System.out.print(scaler.status().toTable());
        assertFalse(st.reachable(), st.toString());
        assertFalse(st.healthy());
        assertEquals(java.util.Optional.of(false), st.slotActive());
        assertTrue(st.error().isPresent());
        // removal still works on a dead node: its slot is dropped
        scaler.removeNode("standby1", RemoveOptions.defaults().withDeleteData(true));
        assertTrue(scaler.slots().get(SlotName.of("standby1")).isEmpty());
    }

    @Test
    @Order(7)
    void primaryDownMeansClearErrorAndNothingLeft() {
        PostgresNode primary = scaler.primaryNode();
        primary.stop();
        try {
            ReplicationException e = assertThrows(ReplicationException.class,
                    () -> scaler.addStandby(spec("late")));
            assertTrue(e.getMessage().contains("primary") || e.getMessage().contains("lock"), e.getMessage());
            assertFalse(Files.exists(base.resolve("late")));
        } finally {
            primary.start();
        }
        assertTrue(scaler.slots().get(SlotName.of("late")).isEmpty());
    }

    private static void exec(PostgresNode node, String... sql) throws SQLException {
        try (Connection c = node.connect(); Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }
}
