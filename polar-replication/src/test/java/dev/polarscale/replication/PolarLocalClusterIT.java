package dev.polarscale.replication;

import dev.polarscale.core.PgInstallation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LocalCluster in PolarDB mode: shared-storage replicas in local-file-system mode. */
@EnabledIfEnvironmentVariable(named = "POLARDB_HOME", matches = ".+",
        disabledReason = "POLARDB_HOME not set: no PolarDB-PG installation for a PolarDB local cluster")
class PolarLocalClusterIT {

    @Test
    void replicasShareTheStorageAndEverythingIsRemovedOnClose() throws SQLException {
        PgInstallation polardb = PgInstallation.at(Path.of(System.getenv("POLARDB_HOME"), "bin"));
        Path base;
        try (LocalCluster cluster = LocalCluster.builder().polarDb(polardb).standbys(1).build().start()) {
            base = cluster.baseDirectory();
            assertTrue(cluster.isPolarDb());
            assertThrows(IllegalStateException.class, () -> cluster.addStandby("standby9"));
            try (Connection c = cluster.dataSource().getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE shared_t AS SELECT generate_series(1, 100) AS id");
            }
            cluster.addReplica("replica2");
            for (String n : cluster.standbyNames()) {
                try (Connection c = cluster.dataSource(n).getConnection()) {
                    assertEquals(100, Procs.awaitCount(c, "SELECT count(*) FROM shared_t", 100, Duration.ofSeconds(10)), n);
                }
                assertTrue(cluster.status().node(n).orElseThrow().healthy(), cluster.status().toTable());
            }
            cluster.removeNode("replica2");
            assertTrue(cluster.status().node("replica2").isEmpty());
        }
        assertFalse(Files.exists(base), "base directory removed on close");
    }
}
