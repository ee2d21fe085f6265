package dev.polarscale.examples;

import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The PolarDB image through {@link PolarDbContainer}: the primary is PolarDB 15, and a row it
 * commits is read on both shared-storage replicas. Skipped (not passed) where no Docker API
 * exists; where only Podman runs, {@link PodmanDockerApi} serves one for the run. The image is
 * {@link PolarDbContainer#defaultImage()}: here the stand-in built from {@code POLARDB_HOME}.
 */
@PodmanDockerApi
@Testcontainers(disabledWithoutDocker = true)
class PolarDbContainerIT {

    @Container
    static final PolarDbContainer POLARDB = new PolarDbContainer();

    @Test
    void primaryIsPolarDbAndReplicasSeeItsRows() throws Exception {
        System.out.println("PolarDB image " + POLARDB.getDockerImageName() + " at " + POLARDB.primaryJdbcUrl());
        try (Connection c = connect(POLARDB.primaryJdbcUrl()); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT version()")) {
                rs.next();
                assertTrue(rs.getString(1).contains("PolarDB"), rs.getString(1));
            }
            s.execute("CREATE TABLE polarscale_probe(id int)");
            s.execute("INSERT INTO polarscale_probe SELECT generate_series(1, 10)");
        }
        for (int i = 0; i < PolarDbContainer.REPLICA_PORTS.length; i++) {
            try (Connection c = connect(POLARDB.replicaJdbcUrl(i)); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                    rs.next();
                    assertTrue(rs.getBoolean(1), "replica " + i + " must be in recovery");
                }
                assertEquals(10, awaitCount(s, 10), "replica " + i);
            }
        }
    }

    private static Connection connect(String url) throws SQLException {
        return DriverManager.getConnection(url, POLARDB.username(), POLARDB.password());
    }

    private static long awaitCount(Statement s, long expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM polarscale_probe")) {
                rs.next();
                long n = rs.getLong(1);
                if (n == expected || System.nanoTime() > deadline) {
                    return n;
                }
            } catch (SQLException e) {
                if (!"42P01".equals(e.getSQLState()) || System.nanoTime() > deadline) {
                    throw e;
                }
            }
            Thread.sleep(20);
        }
    }
}
