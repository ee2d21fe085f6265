package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.Executors;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PostgresNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A reconcile whose JVM dies between steps ({@code Runtime.halt} after the N-th step of the whole
 * {@code scaleTo}, counted over its operations) converges when run again: the same nodes on the
 * same ports and directories as an uninterrupted run, every follower healthy, no journal row, no
 * slot, process or directory left of a node that is not in the cluster, and the node added by hand
 * never touched. The crashing JVMs run without Micrometer on their class path.
 *
 * <p>Steps of one add under scaleTo: lock, recover, check membership, check, create slot, allow
 * replication, base backup, configure, start, verify recovery, verify streaming, verify canary,
 * register (13); of one removal: lock, recover, check membership, check, stop, await slot inactive,
 * drop slot, unregister, revoke replication, delete data (10). The halts chosen: a slot made and a
 * server running, the node registered (an add's commit point) but its operation not ended, the
 * second add's server running; a removal's node stopped, a removal done but for its journal row;
 * and a removal unregistered with nothing left to change (only the recovery finishes it). Every
 * step of each single operation is covered by CrashIT; this test is about the reconcile around them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScaleCrashIT {
    private static final String SUPERUSER_PW = "scale-crash-" + Long.toHexString(System.nanoTime());
    private static final String REPL_PW = "scale-crash-repl-" + Long.toHexString(System.nanoTime());

    private static Path base;
    private static ClusterSpec spec;
    private static ClusterScaler scaler;
    private static NamingPolicy policy;
    private static int firstPort;
    /** The followers after an uninterrupted scale to 2: name host:port dir. */
    private static Set<String> reference;

    @BeforeAll
    static void deploy() throws IOException {
        base = Files.createTempDirectory("polarscale-scale-crash-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        spec = ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Procs.freePort(), base.resolve("primary"))
                .superuserPassword(SUPERUSER_PW).replicationPassword(REPL_PW)
                .verifyTimeout(Duration.ofSeconds(30)).build();
        scaler = ClusterScaler.forCluster(spec);
        scaler.deployPrimary();
        firstPort = Procs.freePort();
        policy = NamingPolicy.builder().prefix("node-").ports(firstPort, Math.min(65535, firstPort + 40))
                .dataDirectories(base).build();
        scaler.addStandby(NodeSpec.builder().name("keeper").port(Procs.freePort())
                .dataDirectory(base.resolve("keeper")).build());
        scaler.scaleTo(ScaleTarget.count(2, policy));
        reference = governed();
        System.out.println("reference: " + reference);
        scaler.scaleTo(ScaleTarget.count(0, policy));
    }

    @AfterAll
    static void tearDown() throws InterruptedException {
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
        Executors.local().run(Command.of("rm", "-rf", "--", base.toString()));
        assertEquals("", Procs.awaitNoProcess(base.toString()), "no process left");
    }

    private static Set<String> governed() {
        return scaler.status().nodes().stream().filter(n -> policy.governs(n.name()))
                .map(n -> n.name() + " " + n.host() + ":" + n.port()).collect(Collectors.toCollection(TreeSet::new));
    }

    /** Runs scaleTo(count) in a JVM without Micrometer that halts after step {@code haltAfter}. */
    private static String crash(int count, int haltAfter) throws IOException, InterruptedException {
        Path out = base.resolve("child-" + count + "-" + haltAfter + ".out");
        // Surefire's and Failsafe's real test class path (java.class.path is a manifest-only jar there)
        String all = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String classPath = Arrays.stream(all.split(File.pathSeparator))
                .filter(e -> !e.contains("micrometer") && !e.contains("HdrHistogram") && !e.contains("LatencyUtils"))
                .collect(Collectors.joining(File.pathSeparator));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classPath, CrashingScaleMain.class.getName(), "primaryPort=" + spec.primaryPort(),
                "primaryDir=" + spec.primaryDataDirectory(), "count=" + count, "prefix=node-",
                "firstPort=" + policy.firstPort(), "lastPort=" + policy.lastPort(), "base=" + base,
                "haltAfter=" + haltAfter));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("POLARSCALE_SUPERUSER_PASSWORD", SUPERUSER_PW);
        pb.environment().put("POLARSCALE_REPLICATION_PASSWORD", REPL_PW);
        Process child = pb.start();
        assertTrue(child.waitFor(3, TimeUnit.MINUTES), "the child JVM ended");
        String output = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(output.contains("MICROMETER absent"), "the child runs without Micrometer:\n" + output);
        assertEquals(CrashingScaleMain.HALTED, child.exitValue(), "halted after step " + haltAfter + ":\n" + output);
        return output.lines().filter(l -> l.startsWith("HALT")).findFirst().orElse("?");
    }

    /** The policy's nodes are exactly {@code expected}, healthy; nothing else of the policy anywhere. */
    private static void assertConverged(Set<String> expected) throws SQLException, InterruptedException {
        assertEquals(expected, governed());
        for (NodeStatus n : scaler.status().nodes()) {
            assertTrue(n.healthy(), n.toString());
        }
        assertTrue(scaler.status().node("keeper").isPresent(), "the hand-added node is never touched");
        assertEquals(0, scalar("SELECT count(*) FROM polarscale.operations"), "no journal row");
        Set<String> slots = new TreeSet<>();
        scaler.slots().list().forEach(s -> slots.add(s.name().value()));
        Set<String> nodeSlots = scaler.status().nodes().stream().filter(n -> n.role() != NodeRole.PRIMARY)
                .map(n -> n.name().replace('-', '_')).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(nodeSlots, slots, "a slot for each node and no other");
        Set<String> names = expected.stream().map(s -> s.split(" ")[0]).collect(Collectors.toSet());
        for (int i = 1; i <= 3; i++) {
            String name = policy.name(i);
            if (!names.contains(name)) {
                assertFalse(Files.exists(policy.dataDirectory(name)), name + ": directory left");
                assertEquals("", Procs.awaitNoProcess(policy.dataDirectory(name) + " "), name + ": process left");
            }
        }
    }

    private static long scalar(String sql) throws SQLException {
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @ParameterizedTest(name = "scale 0 -> 2 halted after step {0}, then scaleTo again")
    @ValueSource(ints = {9, 13, 22})
    @Order(1)
    void anInterruptedScaleOutConverges(int haltAfter) throws Exception {
        Instant t0 = Instant.now();
        String halted = crash(2, haltAfter);
        long t = System.nanoTime();
        ScaleReport r = scaler.scaleTo(ScaleTarget.count(2, policy));
        System.out.printf("%s; re-run: %d ms, %s%n", halted, (System.nanoTime() - t) / 1_000_000,
                r.operations().stream().map(OperationReport::operation).toList());
        assertConverged(reference);
        if (haltAfter == 9) { // the first add's server was running: recovery undid it, recorded as such
            assertTrue(scaler.events(EventQuery.latest(500).since(t0).node("node-1")).stream()
                    .anyMatch(e -> e.isOperation() && e.outcome() == ScaleEvent.Outcome.UNDONE
                            && e.message().orElse("").contains("undone by recovery")), "recovery recorded");
        }
        scaler.scaleTo(ScaleTarget.count(0, policy));
        assertConverged(Set.of());
    }

    @ParameterizedTest(name = "scale 2 -> 0 halted after step {0}, then scaleTo again")
    @ValueSource(ints = {5, 10})
    @Order(2)
    void anInterruptedScaleInConverges(int haltAfter) throws Exception {
        scaler.scaleTo(ScaleTarget.count(2, policy));
        String halted = crash(0, haltAfter);
        long t = System.nanoTime();
        ScaleReport r = scaler.scaleTo(ScaleTarget.count(0, policy));
        System.out.printf("%s; re-run: %d ms, %s%n", halted, (System.nanoTime() - t) / 1_000_000,
                r.operations().stream().map(OperationReport::operation).toList());
        assertConverged(Set.of());
    }

    @Test
    @Order(3)
    void aReconcileKilledAfterItsLastChangeCommittedIsFinishedByTheNextRun() throws Exception {
        // halted right after the last removal unregistered its node: the node's directory and the
        // operation's row are left; the next scaleTo has no change to make, and its recover
        // operation still finishes the removal
        scaler.scaleTo(ScaleTarget.count(1, policy));
        crash(0, 8); // node-1: ... drop slot, unregister (8): its directory and row remain
        assertTrue(scalar("SELECT count(*) FROM polarscale.operations") > 0);
        ScalePlan plan = scaler.planScale(ScaleTarget.count(0, policy));
        System.out.print(plan.summary());
        assertEquals(1, plan.recoveries().size());
        assertTrue(plan.changes().isEmpty());
        ScaleReport r = scaler.scaleTo(ScaleTarget.count(0, policy));
        assertEquals(List.of("recover primary"), r.operations().stream().map(OperationReport::operation).toList());
        assertConverged(Set.of());
    }
}
