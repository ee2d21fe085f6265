package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.Executors;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults on real processes in the middle of {@link ClusterScaler#addStandby}: the primary killed
 * at each step in turn, the new node killed during verification, a data directory the server
 * user cannot write. After each: a typed error, no slot, no process, no directory, and the same
 * add succeeds once the fault is gone.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultIT {
    /** Every step of addStandby, in order. */
    static final List<String> ADD_STANDBY_STEPS = List.of("lock", "recover", "check", "create slot",
            "allow replication", "base backup", "configure", "start", "verify recovery", "verify streaming",
            "verify canary", "register");

    private static Path base;
    private static ClusterScaler scaler;
    private static final AtomicInteger FAULTS = new AtomicInteger();

    @BeforeAll
    static void deploy() throws IOException {
        base = Files.createTempDirectory("polarscale-fault-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        scaler = ClusterScaler.forCluster(ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Procs.freePort(), base.resolve("primary"))
                .verifyTimeout(Duration.ofSeconds(10)).build());
        scaler.deployPrimary();
    }

    @AfterAll
    static void tearDown() {
        System.out.println("FaultIT: faults injected = " + FAULTS.get());
        if (scaler != null) {
            PostgresNode primary = scaler.primaryNode();
            scaler.close();
            primary.stop();
        }
        Executors.local().run(Command.of("rm", "-rf", "--", base.toString()));
    }

    private static NodeSpec spec(String name) {
        return NodeSpec.builder().name(name).port(Procs.freePort()).dataDirectory(base.resolve(name)).build();
    }

    private static ClusterScaler faulty(String atStep, Runnable fault, AtomicBoolean fired) {
        return ClusterScaler.forCluster(scaler.spec().toBuilder().listener(new ScaleListener() {
            @Override
            public void stepStarted(String operation, String step) {
                if (step.equals(atStep) && fired.compareAndSet(false, true)) {
                    fault.run();
                }
            }
        }).build());
    }

    @Test
    @Order(0)
    void theStepListIsCompleteAndInOrder() {
        NodeSpec node = spec("steps");
        OperationReport r = scaler.addStandby(node);
        assertEquals(ADD_STANDBY_STEPS, r.steps().stream().map(OperationReport.StepTiming::step).toList());
        scaler.removeNode("steps", RemoveOptions.defaults().withDeleteData(true));
    }

    @ParameterizedTest(name = "primary killed at {0}")
    @ValueSource(strings = {"lock", "recover", "check", "create slot", "allow replication", "base backup",
            "configure", "start", "verify recovery", "verify streaming", "verify canary", "register"})
    @Order(1)
    void primaryKilledAtEachStep(String step) throws Exception {
        String name = "kill_" + step.replace(' ', '_');
        NodeSpec node = spec(name);
        PostgresNode primary = scaler.primaryNode();
        AtomicBoolean fired = new AtomicBoolean();
        long t0 = System.nanoTime();
        RuntimeException e;
        try (ClusterScaler f = faulty(step, () -> Procs.killPostmaster(primary.dataDirectory()), fired)) {
            e = assertThrows(RuntimeException.class, () -> f.addStandby(node));
        }
        FAULTS.incrementAndGet();
        try {
            assertTrue(fired.get(), "the fault fired");
            System.out.printf("primary killed at '%s': %s after %d ms: %s%n", step, e.getClass().getSimpleName(),
                    (System.nanoTime() - t0) / 1_000_000, e.getMessage());
            assertInstanceOf(PolarException.class, e, "typed error");
            assertNotEquals(PolarException.class, e.getClass(), "a meaningful subtype, not the root: " + e);
            assertEquals("", Procs.awaitNoProcess(node.dataDirectory().toString()), "no process left");
            assertFalse(Files.exists(node.dataDirectory()), "no directory left");
        } finally {
            Procs.restart(primary);
        }
        // a slot only exists if the add recorded it as its own, so the retry can reclaim it
        scaler.slots().get(node.slotName()).ifPresent(s -> assertFalse(s.active(), "leftover slot is inactive"));
        assertTrue(scaler.status().node(name).isEmpty(), "not registered");

        scaler.addStandby(node);
        assertTrue(scaler.status().node(name).orElseThrow().healthy());
        scaler.removeNode(name, RemoveOptions.defaults().withDeleteData(true));
        assertTrue(scaler.slots().get(node.slotName()).isEmpty(), "no slot after remove");
        assertTrue(scaler.slots().list().isEmpty(), "no orphan slot at all: " + scaler.slots().list());
        assertFalse(Files.exists(node.dataDirectory()));
    }

    @ParameterizedTest(name = "new node killed at {0}")
    @ValueSource(strings = {"verify recovery", "verify streaming", "verify canary"})
    @Order(2)
    void newNodeKilledDuringVerification(String step) throws Exception {
        String name = "dies_" + step.replace(' ', '_');
        NodeSpec node = spec(name);
        AtomicBoolean fired = new AtomicBoolean();
        RuntimeException e;
        try (ClusterScaler f = faulty(step, () -> Procs.killPostmaster(node.dataDirectory()), fired)) {
            e = assertThrows(RuntimeException.class, () -> f.addStandby(node));
        }
        FAULTS.incrementAndGet();
        assertTrue(fired.get());
        System.out.printf("new node killed at '%s': %s: %s%n", step, e.getClass().getSimpleName(), e.getMessage());
        assertInstanceOf(PolarException.class, e);
        assertNotEquals(PolarException.class, e.getClass(), e.toString());
        assertTrue(e.getMessage().contains(name), e.getMessage());
        assertEquals("", Procs.awaitNoProcess(node.dataDirectory().toString()), "no process left");
        assertFalse(Files.exists(node.dataDirectory()), "no directory left");
        assertTrue(scaler.slots().get(node.slotName()).isEmpty(), "no slot left");
        assertTrue(scaler.status().node(name).isEmpty());

        scaler.addStandby(node);
        assertTrue(scaler.status().node(name).orElseThrow().healthy());
        scaler.removeNode(name, RemoveOptions.defaults().withDeleteData(true));
    }

    @Test
    @Order(3)
    void dataDirectoryTheServerUserCannotWrite() throws Exception {
        Path locked = base.resolve("locked");
        // As root the servers run as another user, whom a root-owned 0700 directory shuts out;
        // as any other user the servers run as the JVM's user, whom only a read-only one does.
        boolean root = "root".equals(System.getProperty("user.name"));
        Files.createDirectory(locked, PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString(root ? "rwx------" : "r-x------")));
        NodeSpec node = NodeSpec.builder().name("unwritable").port(Procs.freePort())
                .dataDirectory(locked.resolve("unwritable")).build();
        RuntimeException e = assertThrows(RuntimeException.class, () -> scaler.addStandby(node));
        FAULTS.incrementAndGet();
        System.out.printf("parent the server user cannot write: %s: %s%n", e.getClass().getSimpleName(), e.getMessage());
        assertTrue(e instanceof PolarException || e instanceof IllegalArgumentException, e.toString());
        assertNotEquals(PolarException.class, e.getClass(), e.toString());
        assertTrue(e.getMessage().contains("unwritable"), e.getMessage());
        assertEquals("", Procs.awaitNoProcess(node.dataDirectory().toString()));
        assertFalse(Files.exists(node.dataDirectory()), "nothing left in " + locked + ": "
                + listing(locked));
        assertTrue(scaler.slots().get(node.slotName()).isEmpty(), "no slot left");

        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx--x--x"));
        scaler.addStandby(node);
        assertTrue(scaler.status().node("unwritable").orElseThrow().healthy());
        scaler.removeNode("unwritable", RemoveOptions.defaults().withDeleteData(true));
        assertTrue(scaler.slots().get(SlotName.of("unwritable")).isEmpty());
    }

    private static String listing(Path dir) {
        try (var s = Files.list(dir)) {
            return s.map(Path::toString).collect(Collectors.joining(", "));
        } catch (IOException e) {
            return e.toString();
        }
    }
}
