package dev.polarscale.replication;

import dev.polarscale.core.PolarException;
import dev.polarscale.core.Command;
import dev.polarscale.core.Executors;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import dev.polarscale.replication.internal.ClusterLock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two scalers adding nodes to one cluster at the same moment, from two threads and from two
 * JVMs: the cluster lock serialises them, the check step included, so they end with two healthy
 * nodes with distinct ports and slots, or one node and one clean refusal, never a half-made node.
 */
class ConcurrencyIT {
    private static final String SUPERUSER_PW = "conc-super-" + Long.toHexString(System.nanoTime());
    private static final String REPL_PW = "conc-repl-" + Long.toHexString(System.nanoTime());
    private static Path base;
    private static ClusterSpec spec;
    private static ClusterScaler scaler;

    @BeforeAll
    static void deploy() throws IOException {
        base = Files.createTempDirectory("polarscale-concurrency-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        spec = ClusterSpec.builder().primary("primary", "127.0.0.1", Procs.freePort(), base.resolve("primary"))
                .superuserPassword(SUPERUSER_PW).replicationPassword(REPL_PW)
                .verifyTimeout(Duration.ofSeconds(30)).lockTimeout(Duration.ofSeconds(90)).build();
        scaler = ClusterScaler.forCluster(spec);
        scaler.deployPrimary();
    }

    @AfterAll
    static void tearDown() {
        if (scaler != null) {
            PostgresNode primary = scaler.primaryNode();
            scaler.close();
            primary.stop();
        }
        Executors.local().run(Command.of("rm", "-rf", "--", base.toString()));
    }

    @AfterEach
    void removeAll() {
        for (NodeStatus n : scaler.status().nodes()) {
            if (!n.name().equals("primary")) {
                scaler.removeNode(n.name(), RemoveOptions.defaults().withDeleteData(true));
            }
        }
        assertEquals(List.of(), scaler.slots().list());
    }

    private static NodeSpec node(String name, int port) {
        return NodeSpec.builder().name(name).port(port).dataDirectory(base.resolve(name)).build();
    }

    /** Runs both adds released at the same instant; returns each outcome (null: success). */
    private static List<Throwable> race(List<Callable<Object>> adds) throws Exception {
        ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(adds.size());
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<Object>> futures = new ArrayList<>();
            for (Callable<Object> add : adds) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return add.call();
                }));
            }
            go.countDown();
            List<Throwable> out = new ArrayList<>();
            for (Future<Object> f : futures) {
                try {
                    f.get(3, TimeUnit.MINUTES);
                    out.add(null);
                } catch (java.util.concurrent.ExecutionException e) {
                    out.add(e.getCause());
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void twoThreadsAddTwoNodesOneAfterTheOther() throws Exception {
        StepWindow wa = new StepWindow();
        StepWindow wb = new StepWindow();
        NodeSpec a = node("ta", Procs.freePort());
        NodeSpec b = node("tb", Procs.freePort());
        try (ClusterScaler sa = ClusterScaler.forCluster(spec.toBuilder().listener(wa).build());
             ClusterScaler sb = ClusterScaler.forCluster(spec.toBuilder().listener(wb).build())) {
            List<Throwable> out = race(List.of(() -> sa.addStandby(a), () -> sb.addStandby(b)));
            assertEquals(java.util.Arrays.asList(null, null), out, "both adds succeed");
        }
        System.out.printf("two threads: ta steps %d..%d, tb steps %d..%d%n", wa.first(), wa.last(), wb.first(),
                wb.last());
        assertFalse(StepWindow.overlap(wa.first(), wa.last(), wb.first(), wb.last()),
                "the lock serialises the operations, check step included");
        bothHealthyAndDistinct("ta", "tb");
    }

    /**
     * Four adds at once on ONE scaler (as LocalCluster's callers do): the three waiting for the
     * cluster lock must not hold the scaler's few pooled connections while the holder needs them.
     */
    @Test
    void fourThreadsOnOneScalerShareItsPool() throws Exception {
        List<NodeSpec> nodes = List.of(node("one_a", Procs.freePort()), node("one_b", Procs.freePort()),
                node("one_c", Procs.freePort()), node("one_d", Procs.freePort()));
        try (ClusterScaler shared = ClusterScaler.forCluster(spec)) {
            List<Throwable> out = race(nodes.stream().<java.util.concurrent.Callable<Object>>map(n -> () ->
                    shared.addStandby(n)).toList());
            assertEquals(java.util.Arrays.asList(null, null, null, null), out, "all four adds succeed");
        }
        for (NodeSpec n : nodes) {
            assertTrue(scaler.status().node(n.name()).orElseThrow().healthy(), n.name());
            scaler.removeNode(n.name(), RemoveOptions.defaults().withDeleteData(true));
        }
    }

    @Test
    void twoThreadsWantingTheSamePortGiveOneNodeAndOneCleanRefusal() throws Exception {
        int port = Procs.freePort();
        NodeSpec a = node("pa", port);
        NodeSpec b = node("pb", port);
        try (ClusterScaler sa = ClusterScaler.forCluster(spec); ClusterScaler sb = ClusterScaler.forCluster(spec)) {
            List<Throwable> out = race(List.of(() -> sa.addStandby(a), () -> sb.addStandby(b)));
            long ok = out.stream().filter(java.util.Objects::isNull).count();
            assertEquals(1, ok, "exactly one add wins: " + out);
            Throwable refusal = out.stream().filter(java.util.Objects::nonNull).findFirst().orElseThrow();
            System.out.println("same port, two threads: refusal " + refusal);
            assertTrue(refusal instanceof ReplicationException r && r.reason() == PolarException.Reason.PORT_IN_USE,
                    refusal.toString());
            assertTrue(refusal.getMessage().contains("port " + port), refusal.getMessage());
        }
        String winner = scaler.status().node("pa").isPresent() ? "pa" : "pb";
        String loser = winner.equals("pa") ? "pb" : "pa";
        assertTrue(scaler.status().node(winner).orElseThrow().healthy());
        noTraceOf(loser);
    }

    @Test
    void aHeldLockIsACleanRefusalAfterTheTimeout() {
        NodeSpec n = node("locked_out", Procs.freePort());
        try (ClusterLock held = ClusterLock.acquire("test", () -> scaler.primaryNode().connect(), Duration.ofSeconds(5));
             ClusterScaler impatient = ClusterScaler.forCluster(spec.toBuilder()
                     .lockTimeout(Duration.ofMillis(500)).build())) {
            ReplicationException e = assertThrows(ReplicationException.class, () -> impatient.addStandby(n));
            assertEquals(PolarException.Reason.LOCK_TIMEOUT, e.reason());
            assertEquals(Optional.empty(), e.sqlState(), "no server sent a SQLSTATE: none is made up");
            assertTrue(e.getMessage().contains("cluster lock"), e.getMessage());
        }
        noTraceOf("locked_out");
    }

    @Test
    void twoJvmsAddTwoNodesOneAfterTheOther() throws Exception {
        NodeSpec mine = node("jvm_a", Procs.freePort());
        NodeSpec theirs = node("jvm_b", Procs.freePort());
        Path out = base.resolve("child.out");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), AddStandbyMain.class.getName(),
                Integer.toString(spec.primaryPort().value()), spec.primaryDataDirectory().toString(),
                theirs.name(), Integer.toString(theirs.port().value()), theirs.dataDirectory().toString())
                .redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("POLARSCALE_SUPERUSER_PASSWORD", SUPERUSER_PW);
        pb.environment().put("POLARSCALE_REPLICATION_PASSWORD", REPL_PW);
        Process child = pb.start();
        // start ours once the other JVM is about to add (its JVM start-up would otherwise decide the race)
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!Files.readString(out).contains("READY") && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        StepWindow w = new StepWindow();
        try (ClusterScaler s = ClusterScaler.forCluster(spec.toBuilder().listener(w).build())) {
            s.addStandby(mine);
        }
        assertTrue(child.waitFor(3, TimeUnit.MINUTES), "child JVM finished");
        String childOut = Files.readString(out, StandardCharsets.UTF_8);
        String result = line(childOut, "RESULT ");
        String[] window = line(childOut, "WINDOW ").split(" ");
        System.out.printf("two JVMs: this JVM steps %d..%d, other JVM %s..%s, other JVM result: %s%n", w.first(),
                w.last(), window[0], window[1], result);
        assertEquals("ok", result, childOut);
        assertFalse(StepWindow.overlap(w.first(), w.last(), Long.parseLong(window[0]), Long.parseLong(window[1])),
                "the lock serialises operations across JVMs");
        bothHealthyAndDistinct("jvm_a", "jvm_b");
    }

    private static String line(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length())).findFirst()
                .orElseThrow(() -> new AssertionError("no '" + prefix + "' line in:\n" + text));
    }

    private static void bothHealthyAndDistinct(String a, String b) {
        ClusterStatus st = scaler.status();
        NodeStatus na = st.node(a).orElseThrow();
        NodeStatus nb = st.node(b).orElseThrow();
        assertTrue(na.healthy(), na.toString());
        assertTrue(nb.healthy(), nb.toString());
        assertNotEquals(na.port(), nb.port());
        assertTrue(scaler.slots().get(SlotName.of(a)).orElseThrow().active());
        assertTrue(scaler.slots().get(SlotName.of(b)).orElseThrow().active());
    }

    private static void noTraceOf(String name) {
        assertTrue(scaler.status().node(name).isEmpty(), name + " registered");
        assertTrue(scaler.slots().get(SlotName.of(name)).isEmpty(), name + " slot left");
        assertFalse(Files.exists(base.resolve(name)), name + " directory left");
        assertEquals("", Procs.pgrep(base.resolve(name).toString()), name + " process left");
    }
}
