package dev.polarscale.replication;

import dev.polarscale.core.PgInstallation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

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
                assertEquals(100, awaitCount(cluster, n), n);
                assertTrue(cluster.status().node(n).orElseThrow().healthy(), cluster.status().toTable());
            }
            cluster.removeNode("replica2");
            assertTrue(cluster.status().node("replica2").isEmpty());
        }
        assertFalse(Files.exists(base), "base directory removed on close");
    }

    private static long awaitCount(LocalCluster cluster, String node) throws SQLException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        try (Connection c = cluster.dataSource(node).getConnection(); Statement s = c.createStatement()) {
            while (true) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM shared_t")) {
                    rs.next();
                    long n = rs.getLong(1);
                    if (n == 100 || System.nanoTime() > deadline) {
                        return n;
                    }
                } catch (SQLException e) {
                    if (!"42P01".equals(e.getSQLState()) || System.nanoTime() > deadline) {
                        throw e;
                    }
                }
            }
        }
    }
}
