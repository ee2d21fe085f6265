package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.Executors;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.OsUsers;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
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
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The PolarDB path on a real PolarDB-PG 15 in local-file-system mode: primary, two
 * shared-storage replicas, canary reads, scale-in, then DDL on the primary must not hang.
 * Runs only when {@code POLARDB_HOME} names an installation.
 */
@EnabledIfEnvironmentVariable(named = "POLARDB_HOME", matches = ".+",
        disabledReason = "POLARDB_HOME not set: no PolarDB-PG installation to test the shared-storage replica path")
class PolarReplicaIT {
    private static Path base;
    private static ClusterScaler scaler;

    @BeforeAll
    static void deploy() throws IOException {
        String home = System.getenv("POLARDB_HOME");
        PgInstallation polardb = PgInstallation.at(Path.of(home, "bin"));
        assumeTrue(polardb.isPolarDb(), "POLARDB_HOME=" + home + " has no bin/polar-initdb.sh");
        base = Files.createTempDirectory("polarscale-polardb-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        String osUser = OsUsers.serverUser(Executors.local()).orElseGet(() -> OsUsers.whoami(Executors.local()));
        ClusterSpec spec = ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Procs.freePort(), base.resolve("primary"))
                .installation(polardb)
                .sharedStorage(SharedStorage.localFileSystem(base.resolve("shared_data"), osUser))
                .verifyTimeout(Duration.ofSeconds(60))
                .build();
        scaler = ClusterScaler.forCluster(spec);
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
    void twoReplicasReadTheSharedStorageAndScaleInLeavesDdlWorking() throws SQLException {
        OperationReport r1 = scaler.addReplica(NodeSpec.builder().name("replica1").port(Procs.freePort())
                .dataDirectory(base.resolve("replica1")).build());
        OperationReport r2 = scaler.addReplica(NodeSpec.builder().name("replica2").port(Procs.freePort())
                .dataDirectory(base.resolve("replica2")).build());
        System.out.printf("addReplica: %d ms and %d ms, canary lag %d µs / %d µs%n", r1.total().toMillis(),
                r2.total().toMillis(), r1.canaryLag().toNanos() / 1000, r2.canaryLag().toNanos() / 1000);
        ClusterStatus status = scaler.status();
        System.out.print(status.toTable());
        for (String n : List.of("replica1", "replica2")) {
            assertTrue(status.node(n).orElseThrow().healthy(), status.toTable());
            assertEquals(NodeRole.REPLICA, status.node(n).orElseThrow().role());
        }
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t(id int)");
            s.execute("INSERT INTO t SELECT generate_series(1, 10)");
        }
        for (String n : List.of("replica1", "replica2")) {
            try (Connection c = scaler.node(n).connect()) {
                assertEquals(10, Procs.awaitCount(c, "SELECT count(*) FROM t", 10, Duration.ofSeconds(10)), n);
            }
        }

        scaler.removeNode("replica2", RemoveOptions.defaults().withDeleteData(true));
        assertTrue(scaler.slots().get(SlotName.of("replica2")).isEmpty());
        assertFalse(Files.exists(base.resolve("replica2")));
        // a replica slot left behind makes DDL wait for ever (SyncRep); after removal it must not
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement()) {
            s.execute("SET statement_timeout = '5s'");
            s.execute("CREATE TABLE after_scale_in(id int)");
            s.execute("DROP TABLE after_scale_in");
        }
    }
}
