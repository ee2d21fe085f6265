package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.Executors;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A deployed primary plus what the crash ITs need: run an operation in a child JVM that halts
 * after a chosen step, and check afterwards that nothing of a node is left anywhere: not
 * registered, no journal row, no slot, no process, no directory.
 */
final class CrashRig implements AutoCloseable {
    private static final String SUPERUSER_PW = "crash-super-" + Long.toHexString(System.nanoTime());
    private static final String REPL_PW = "crash-repl-" + Long.toHexString(System.nanoTime());

    final Path base;
    final ClusterSpec spec;
    final ClusterScaler scaler;
    private List<String> childArgs;

    /** A plain PostgreSQL primary, or a PolarDB one when {@code customize} adds shared storage. */
    CrashRig(String prefix, java.util.function.BiFunction<ClusterSpec.Builder, Path, ClusterSpec.Builder> customize,
             List<String> childArgs) throws IOException {
        base = Files.createTempDirectory(prefix);
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        spec = customize.apply(ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Procs.freePort(), base.resolve("primary"))
                .superuserPassword(SUPERUSER_PW).replicationPassword(REPL_PW)
                .verifyTimeout(Duration.ofSeconds(30)), base).build();
        scaler = ClusterScaler.forCluster(spec);
        scaler.deployPrimary();
        this.childArgs = childArgs;
    }

    /** Extra {@code key=value} arguments of every child JVM (the PolarDB installation and storage). */
    void setChildArgs(List<String> args) {
        this.childArgs = List.copyOf(args);
    }

    NodeSpec node(String name) {
        return NodeSpec.builder().name(name).port(Procs.freePort()).dataDirectory(base.resolve(name)).build();
    }

    /**
     * Runs {@code op} on {@code node} in a new JVM that halts right after {@code haltAfter}.
     *
     * @return the child's output
     */
    String crash(String op, NodeSpec node, String haltAfter) throws IOException, InterruptedException {
        Path out = base.resolve("child-" + node.name() + ".out");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), CrashingOperationMain.class.getName(),
                "op=" + op, "haltAfter=" + haltAfter, "primaryPort=" + spec.primaryPort(),
                "primaryDir=" + spec.primaryDataDirectory(), "node=" + node.name(), "nodePort=" + node.port(),
                "nodeDir=" + node.dataDirectory()));
        cmd.addAll(childArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("POLARSCALE_SUPERUSER_PASSWORD", SUPERUSER_PW);
        pb.environment().put("POLARSCALE_REPLICATION_PASSWORD", REPL_PW);
        Process child = pb.start();
        assertTrue(child.waitFor(3, TimeUnit.MINUTES), "the child JVM ended");
        String output = Files.readString(out, StandardCharsets.UTF_8);
        assertEquals(CrashingOperationMain.HALTED, child.exitValue(), "halted after " + haltAfter + ":\n" + output);
        return output;
    }

    /** Rows of the operation journal about this node. */
    long journalRows(String name) throws SQLException {
        try (Connection c = scaler.primaryNode().connect();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM polarscale.operations WHERE node = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Nothing of the node anywhere: registry, journal, slot, process, directory. */
    void assertNothingLeft(NodeSpec node) throws Exception {
        String name = node.name();
        assertTrue(scaler.status().node(name).isEmpty(), name + " still registered");
        assertEquals(0, journalRows(name), name + " still in the journal");
        assertTrue(scaler.slots().get(node.slotName()).isEmpty(), name + ": slot left");
        assertEquals("", Procs.awaitNoProcess(node.dataDirectory().toString()), name + ": process left");
        assertFalse(Files.exists(node.dataDirectory()), name + ": directory left");
    }

    /** The node is registered and streams. */
    void assertHealthy(String name) {
        NodeStatus s = scaler.status().node(name).orElseThrow(() -> new AssertionError(name + " not registered"));
        assertTrue(s.healthy(), s.toString());
    }

    /** removeNode where there is nothing to remove is a NODE_NOT_FOUND refusal. */
    static boolean notFound(RuntimeException e) {
        return e instanceof PolarException p && p.reason() == PolarException.Reason.NODE_NOT_FOUND;
    }

    @Override
    public void close() {
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
            Executors.local().run(Command.of("rm", "-rf", "--", base.toString()));
        }
    }
}
