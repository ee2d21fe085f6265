package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.ContainerTarget;
import dev.polarscale.core.Executors;
import dev.polarscale.core.NodeState;
import dev.polarscale.core.PgBinaries;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

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
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A cluster whose standby runs inside a container: the primary on this machine at 127.0.0.1,
 * the container on the host network registered as host 127.0.0.2 (also loopback on Linux, and
 * a different host string, so the spec picks the container executor for it). The scaler runs
 * {@code pg_basebackup}, {@code pg_ctl} and the file steps through {@code podman exec} (or
 * {@code docker exec}) as the image's {@code postgres} user; JDBC reaches the standby on
 * 127.0.0.2; the primary's {@code pg_hba.conf} allows replication from 127.0.0.1/32 and
 * 127.0.0.2/32 (one rule per registered host), and the standby's connection comes from 127.0.0.1.
 *
 * <p>Needs a working Docker or Podman and the image {@value #IMAGE}
 * ({@code .ci/setup.d/40-containers.sh} builds it from this machine's PostgreSQL 15, so the
 * binaries sit at the same path inside as outside, as one {@code PgInstallation} requires).
 * Skipped with the reason otherwise. The container is removed at the end, also after a failure;
 * it stops by itself after 15 minutes if this JVM dies first.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerScalerIT {
    static final String IMAGE = "localhost/polarscale/pg15:latest";
    private static final String CONTAINER_HOST = "127.0.0.2";
    /** A second container's host, for the add whose container disappears. */
    private static final String DOOMED_HOST = "127.0.0.3";
    private static final Path IN_CONTAINER = Path.of("/var/lib/polarscale");
    private static final CommandExecutor LOCAL = Executors.local();
    /** What the test wants done between the scaler's steps: (operation, finished step). */
    private static final AtomicReference<BiConsumer<String, String>> HOOK = new AtomicReference<>();

    private static String skipReason;
    private static String runtime;
    private static String container;
    private static String doomed;
    private static Path base;
    private static ClusterScaler scaler;

    @BeforeAll
    static void startContainerAndPrimary() throws Exception {
        skipReason = prerequisites();
        if (skipReason != null) {
            return;
        }
        container = "polarscale-scaler-it-" + ProcessHandle.current().pid();
        doomed = container + "-doomed";
        CommandResult run = LOCAL.execute(Command.of(runtime, "run", "-d", "--rm", "--init", "--network=host",
                "--name", container, IMAGE, "sleep", "900").withTimeout(Duration.ofMinutes(2)));
        if (!run.succeeded()) {
            skipReason = runtime + " cannot start a container from " + IMAGE + ": " + run.stderrTail(5).strip();
            removeContainer();
            return;
        }
        base = Files.createTempDirectory("polarscale-container-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        CommandExecutor inContainer = Executors.container(LOCAL, runtime.equals("docker")
                ? ContainerTarget.docker(container).build() : ContainerTarget.podman(container).build());
        ClusterSpec spec = ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Procs.freePort(), base.resolve("primary"))
                .host(CONTAINER_HOST, inContainer)
                .host(DOOMED_HOST, Executors.container(LOCAL, runtime.equals("docker")
                        ? ContainerTarget.docker(doomed).build() : ContainerTarget.podman(doomed).build()))
                .verifyTimeout(Duration.ofSeconds(10))
                .listener(new ScaleListener() {
                    @Override
                    public void stepFinished(String operation, String step, Duration took) {
                        BiConsumer<String, String> hook = HOOK.get();
                        if (hook != null) {
                            hook.accept(operation, step);
                        }
                    }
                })
                .build();
        scaler = ClusterScaler.forCluster(spec);
        scaler.deployPrimary();
    }

    /** Why the test cannot run here, or {@code null}. */
    private static String prerequisites() {
        StringBuilder why = new StringBuilder();
        for (String candidate : List.of("docker", "podman")) {
            String problem = probe(candidate, "info");
            if (problem == null) {
                problem = probe(candidate, "image", "inspect", IMAGE);
                if (problem == null) {
                    runtime = candidate;
                    break;
                }
                problem = "no image " + IMAGE + " (.ci/setup.d/40-containers.sh builds it)";
            }
            why.append(candidate).append(": ").append(problem).append("; ");
        }
        if (runtime == null) {
            return "no container runtime with the PolarScale image: " + why;
        }
        PgInstallation pg = PgBinaries.locate();
        if (!pg.has("pg_basebackup")) {
            return "the server binaries " + pg.binDir() + " have no pg_basebackup, which a standby on another host needs";
        }
        String inImage = pg.tool("pg_basebackup").toString();
        if (probe(runtime, "run", "--rm", "--network=none", IMAGE, "test", "-x", inImage) != null) {
            return IMAGE + " has no " + inImage + ": the cluster uses " + pg.binDir()
                    + " on every host (set POLARSCALE_PG_BIN=/usr/lib/postgresql/15/bin)";
        }
        return null;
    }

    private static String probe(String runtime, String... args) {
        List<String> argv = new ArrayList<>(List.of(runtime));
        argv.addAll(List.of(args));
        try {
            CommandResult r = LOCAL.execute(Command.of(argv).withTimeout(Duration.ofSeconds(60)));
            return r.succeeded() ? null : "'" + String.join(" ", argv) + "' exited " + r.exitCode() + ": "
                    + r.stderrTail(2).strip();
        } catch (PolarException e) {
            return e.getMessage();
        }
    }

    @BeforeEach
    void requirePrerequisites() {
        assumeTrue(skipReason == null, skipReason);
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (scaler != null) {
                try {
                    for (NodeStatus n : scaler.status().nodes()) {
                        if (!n.name().equals("primary")) {
                            scaler.removeNode(n.name(), RemoveOptions.defaults().withDeleteData(true));
                        }
                    }
                } finally {
                    PostgresNode primary = scaler.primaryNode();
                    scaler.close();
                    primary.stop();
                    primary.deleteDataDirectory();
                    assertEquals(NodeState.NO_DATA_DIRECTORY, primary.status());
                }
            }
        } finally {
            removeContainer();
            if (base != null) {
                LOCAL.run(Command.of("rm", "-rf", "--", base.toString()));
                assertEquals("", Procs.awaitNoProcess(base.toString()), "no process of the primary is left");
                assertFalse(Files.exists(base));
            }
        }
    }

    private static void removeContainer() {
        for (String c : new String[]{doomed, container}) {
            if (c != null) {
                LOCAL.execute(Command.of(runtime, "rm", "-f", "-t", "0", c).withTimeout(Duration.ofSeconds(60)));
                assertFalse(LOCAL.execute(Command.of(runtime, "container", "inspect", c)
                        .withTimeout(Duration.ofSeconds(30))).succeeded(), "container " + c + " was not removed");
            }
        }
    }

    private static NodeSpec inContainer(String name) {
        return NodeSpec.builder().name(name).host(CONTAINER_HOST).port(Procs.freePort())
                .dataDirectory(IN_CONTAINER.resolve(name)).build();
    }

    /** {@code ps} inside the container: the postgres processes with their arguments. */
    private static String containerProcesses() {
        return LOCAL.run(Command.of(runtime, "exec", container, "ps", "-o", "pid,user,args")
                .withTimeout(Duration.ofSeconds(30))).stdout();
    }

    private static boolean existsInContainer(Path path) {
        return LOCAL.execute(Command.of(runtime, "exec", container, "test", "-e", path.toString())
                .withTimeout(Duration.ofSeconds(30))).succeeded();
    }

    @Test
    @Order(1)
    void aStandbyInTheContainerStreamsAndServesReads() throws SQLException {
        NodeSpec node = inContainer("boxed1");
        OperationReport r = scaler.addStandby(node);
        System.out.printf("add standby in %s: %d ms, canary lag %d µs; steps %s%n", runtime, r.total().toMillis(),
                r.canaryLag().toNanos() / 1000, r.steps());

        Path dir = node.dataDirectory();
        String ps = containerProcesses();
        assertTrue(ps.lines().anyMatch(l -> l.contains("postgres") && l.contains("-D " + dir)),
                "the standby's postmaster runs inside the container:\n" + ps);
        assertTrue(ps.lines().filter(l -> l.contains("-D " + dir)).allMatch(l -> l.contains(" postgres ")),
                "as the image's postgres user:\n" + ps);
        assertFalse(Files.exists(dir), dir + " is the container's, not this machine's");

        exec(scaler.primaryNode(), "CREATE TABLE boxed(id int)", "INSERT INTO boxed SELECT generate_series(1, 25)");
        PostgresNode standby = scaler.node("boxed1");
        assertEquals(CONTAINER_HOST, standby.jdbcHost());
        try (Connection c = standby.connect(); Statement s = c.createStatement()) {
            assertEquals(25, Procs.awaitCount(c, "SELECT count(*) FROM boxed", 25, Duration.ofSeconds(10)));
            try (ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery(), inet_server_addr()::text")) {
                rs.next();
                assertTrue(rs.getBoolean(1), "in recovery");
                assertEquals(CONTAINER_HOST + "/32", rs.getString(2));
            }
        }
        assertThrows(SQLException.class, () -> exec(standby, "INSERT INTO boxed VALUES (26)"), "read-only");

        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT state, client_addr::text FROM pg_stat_replication "
                     + "WHERE application_name = 'boxed1'")) {
            assertTrue(rs.next(), "the primary sees the container's walreceiver");
            assertEquals("streaming", rs.getString(1));
            assertEquals("127.0.0.1/32", rs.getString(2), "host network: the standby connects from loopback");
        }
        // one scram-sha-256 rule per host that runs a node (the primary's and the container's; the
        // host with no node yet has none); the host network makes the container's connection come
        // from 127.0.0.1, so that rule is the one used
        List<String> hba = scaler.primaryNode().readFile("pg_hba.conf").lines()
                .filter(l -> l.startsWith("host") && l.contains(scaler.spec().replicationUser())).toList();
        assertEquals(List.of("127.0.0.1/32", CONTAINER_HOST + "/32"),
                hba.stream().map(l -> l.split("\\s+")[3]).sorted().toList(), hba.toString());
        assertTrue(hba.stream().allMatch(l -> l.split("\\s+")[1].equals("replication")
                && l.strip().endsWith("scram-sha-256")), hba.toString());
        ClusterStatus status = scaler.status();
        System.out.print(status.toTable());
        NodeStatus ns = status.node("boxed1").orElseThrow();
        assertTrue(ns.healthy(), ns.toString());
        assertEquals(CONTAINER_HOST, ns.host());
        assertEquals("streaming", ns.replication().orElseThrow());
    }

    @Test
    @Order(2)
    void removingItStopsTheServerInTheContainerAndDeletesItsData() {
        Path dir = IN_CONTAINER.resolve("boxed1");
        OperationReport rm = scaler.removeNode("boxed1", RemoveOptions.defaults().withDeleteData(true));
        System.out.println("remove standby in " + runtime + ": " + rm.total().toMillis() + " ms");
        assertTrue(scaler.slots().get(SlotName.of("boxed1")).isEmpty(), "slot dropped");
        assertTrue(scaler.status().node("boxed1").isEmpty(), "unregistered");
        String ps = containerProcesses();
        assertFalse(ps.contains(dir.toString()), "no server left in the container:\n" + ps);
        assertFalse(existsInContainer(dir), dir + " deleted inside the container");
    }

    /**
     * An add that fails after the standby's server started in the container (the replication
     * role is refused, so it never streams) is undone there: server stopped, directory deleted,
     * slot dropped, nothing registered. The same add then succeeds once the role may log in again.
     */
    @Test
    @Order(3)
    void aFailedAddInsideTheContainerLeavesNothing() throws Exception {
        NodeSpec node = inContainer("boxed2");
        String role = scaler.spec().replicationUser();
        HOOK.set((op, step) -> {
            if (op.equals("addStandby boxed2") && step.equals("start")) {
                try {
                    exec(scaler.primaryNode(), "ALTER ROLE " + role + " NOLOGIN",
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = 'boxed2'");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        PolarException e;
        try {
            e = assertThrows(PolarException.class, () -> scaler.addStandby(node));
        } finally {
            HOOK.set(null);
            exec(scaler.primaryNode(), "ALTER ROLE " + role + " LOGIN");
        }
        System.out.println("failed add in " + runtime + ": " + e.reason() + ": " + e.getMessage());
        assertTrue(e.getMessage().contains("boxed2"), e.getMessage());
        assertEquals(0, e.getSuppressed().length, "every undo succeeded: " + List.of(e.getSuppressed()));

        String ps = containerProcesses();
        assertFalse(ps.contains(node.dataDirectory().toString()), "the server in the container was stopped:\n" + ps);
        assertFalse(existsInContainer(node.dataDirectory()), "its directory was deleted in the container");
        assertTrue(scaler.slots().get(SlotName.of("boxed2")).isEmpty(), "its slot was dropped");
        assertTrue(scaler.status().node("boxed2").isEmpty(), "nothing registered");

        OperationReport retry = scaler.addStandby(node);
        assertTrue(scaler.status().node("boxed2").orElseThrow().healthy(), "the retry succeeded: " + retry);
        scaler.removeNode("boxed2", RemoveOptions.defaults().withDeleteData(true));
        assertFalse(existsInContainer(node.dataDirectory()));
    }

    /**
     * The container disappears between the base backup and the configuration: the add fails as
     * an unreachable host (not as a command's exit code), the primary keeps no slot and nothing is
     * registered. The undo of the base backup cannot reach the container and says so (its data
     * went with the container).
     */
    @Test
    @Order(4)
    void aContainerThatDisappearsMidAddLeavesNoSlotOnThePrimary() {
        CommandResult run = LOCAL.execute(Command.of(runtime, "run", "-d", "--rm", "--init", "--network=host",
                "--name", doomed, IMAGE, "sleep", "900").withTimeout(Duration.ofMinutes(2)));
        assertTrue(run.succeeded(), run.stderrTail(5));
        NodeSpec node = NodeSpec.builder().name("doomed1").host(DOOMED_HOST).port(Procs.freePort())
                .dataDirectory(IN_CONTAINER.resolve("doomed1")).build();
        HOOK.set((op, step) -> {
            if (op.equals("addStandby doomed1") && step.equals("base backup")) {
                LOCAL.run(Command.of(runtime, "rm", "-f", "-t", "0", doomed).withTimeout(Duration.ofSeconds(60)));
            }
        });
        PolarException e;
        try {
            e = assertThrows(PolarException.class, () -> scaler.addStandby(node));
        } finally {
            HOOK.set(null);
        }
        System.out.println("add into a vanished container: " + e.reason() + ": " + e.getMessage()
                + "; undo failures: " + List.of(e.getSuppressed()));
        assertEquals(PolarException.Reason.HOST_UNREACHABLE, e.reason(), e.getMessage());
        assertTrue(e.getMessage().contains(doomed), e.getMessage());
        assertTrue(scaler.slots().get(SlotName.of("doomed1")).isEmpty(), "the slot was dropped");
        assertTrue(scaler.status().node("doomed1").isEmpty(), "nothing registered");
        assertEquals(1, e.getSuppressed().length, "only the directory's undo failed: " + List.of(e.getSuppressed()));
        assertTrue(e.getSuppressed()[0] instanceof PolarException pe
                && pe.reason() == PolarException.Reason.HOST_UNREACHABLE, e.getSuppressed()[0].toString());
        assertTrue(scaler.status().nodes().stream().allMatch(NodeStatus::healthy), "the rest of the cluster is fine");
    }

    private static void exec(PostgresNode node, String... sql) throws SQLException {
        try (Connection c = node.connect(); Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }
}
