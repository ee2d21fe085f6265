package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.Executors;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.OsUsers;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.storage.SharedStorage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * scaleTo on a real PolarDB-PG 15 in local-file-system mode: a count target makes shared-storage
 * replicas (lowest free polar_hostid each), scales them in again, and DDL on the primary still
 * runs (no slot left behind); the history records it. Runs only when {@code POLARDB_HOME} names
 * an installation.
 */
@EnabledIfEnvironmentVariable(named = "POLARDB_HOME", matches = ".+",
        disabledReason = "POLARDB_HOME not set: no PolarDB-PG installation to test scaleTo with replicas")
class PolarScaleToIT {
    private static Path base;
    private static ClusterScaler scaler;

    @BeforeAll
    static void deploy() throws IOException {
        String home = System.getenv("POLARDB_HOME");
        PgInstallation polardb = PgInstallation.at(Path.of(home, "bin"));
        assumeTrue(polardb.isPolarDb(), "POLARDB_HOME=" + home + " has no bin/polar-initdb.sh");
        base = Files.createTempDirectory("polarscale-polardb-scaleto-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        String osUser = OsUsers.serverUser(Executors.local()).orElseGet(() -> OsUsers.whoami(Executors.local()));
        scaler = ClusterScaler.forCluster(ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Procs.freePort(), base.resolve("primary"))
                .installation(polardb)
                .sharedStorage(SharedStorage.localFileSystem(base.resolve("shared_data"), osUser))
                .verifyTimeout(Duration.ofSeconds(60))
                .build());
        scaler.deployPrimary();
    }

    @AfterAll
    static void tearDown() {
        if (scaler != null) {
            for (NodeStatus n : scaler.status().nodes()) {
                if (n.role() != NodeRole.PRIMARY) {
                    scaler.removeNode(n.name(), RemoveOptions.defaults().withDeleteData(true));
                }
            }
            PostgresNode primary = scaler.primaryNode();
            scaler.close();
            primary.stop();
        }
        if (base != null) {
            Executors.local().run(Command.of("rm", "-rf", "--", base.toString()));
        }
    }

    @Test
    void replicasComeAndGoByCountAndDdlStillRuns() throws Exception {
        Instant t0 = Instant.now();
        int first = Procs.freePort();
        NamingPolicy policy = NamingPolicy.builder().prefix("replica-").ports(first, Math.min(65535, first + 20))
                .dataDirectories(base).build();
        ScalePlan plan = scaler.planScale(ScaleTarget.count(2, policy));
        System.out.print(plan.summary());
        assertTrue(plan.changes().stream().allMatch(c -> c.action() == ScalePlan.Change.Action.ADD_REPLICA));
        long t = System.nanoTime();
        scaler.scaleTo(plan);
        System.out.printf("PolarDB scale 0 -> 2 replicas: %d ms%n", (System.nanoTime() - t) / 1_000_000);
        for (String n : List.of("replica-1", "replica-2")) {
            NodeStatus s = scaler.status().node(n).orElseThrow();
            assertEquals(NodeRole.REPLICA, s.role());
            assertTrue(s.healthy(), s.toString());
        }
        t = System.nanoTime();
        scaler.scaleTo(ScaleTarget.count(0, policy));
        System.out.printf("PolarDB scale 2 -> 0: %d ms%n", (System.nanoTime() - t) / 1_000_000);
        assertEquals(List.of("primary"), scaler.status().nodes().stream().map(NodeStatus::name).toList());
        assertFalse(Files.exists(base.resolve("replica-1")));
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement()) {
            s.execute("SET statement_timeout = '10s'");
            s.execute("CREATE TABLE after_scale_in(id int)"); // hangs if a replica slot were left
        }
        List<ScaleEvent> events = scaler.events(EventQuery.latest(500).since(t0));
        assertEquals(2, events.stream().filter(e -> e.operation().equals("addReplica") && e.isOperation()
                && e.outcome() == ScaleEvent.Outcome.DONE).count());
        assertEquals(2, events.stream().filter(e -> e.operation().equals("removeNode") && e.isOperation()
                && e.outcome() == ScaleEvent.Outcome.DONE).count());
        assertTrue(events.stream().anyMatch(e -> e.step().equals(java.util.Optional.of("polar-initdb"))));
    }
}
