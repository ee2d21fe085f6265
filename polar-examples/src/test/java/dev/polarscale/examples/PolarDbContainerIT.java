package dev.polarscale.examples;

import com.github.dockerjava.api.exception.InternalServerErrorException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.ContainerFetchException;
import org.testcontainers.junit.jupiter.Testcontainers;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The PolarDB image through {@link PolarDbContainer}: the primary is PolarDB 15, and a row it
 * commits is read on both shared-storage replicas. Skipped (not passed) where no Docker API
 * exists; where only Podman runs, {@link PodmanDockerApi} serves one for the run. The image is
 * {@link PolarDbContainer#defaultImage()}: here the stand-in built from {@code POLARDB_HOME}; an
 * image that is neither there nor pullable, or an engine whose OCI runtime cannot create any
 * container, skips the test with the engine's error. Any other start failure fails it. The container is
 * started once for the class and removed after it (Ryuk may be off).
 */
@PodmanDockerApi
@Testcontainers(disabledWithoutDocker = true)
class PolarDbContainerIT {
    private static PolarDbContainer POLARDB;
    private static String skipReason;

    /**
     * Starts the container, or records why the image cannot be had. Not an assumption here: one
     * failing in {@code @BeforeAll} makes Failsafe report no test at all instead of a skip.
     */
    @BeforeAll
    static void start() {
        org.testcontainers.utility.DockerImageName image = PolarDbContainer.defaultImage();
        PolarDbContainer c = new PolarDbContainer(image, "polarscale", "polarscale-test-" + Long.toHexString(System.nanoTime()));
        try {
            c.start();
            POLARDB = c;
        } catch (RuntimeException e) {
            c.stop();
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof ContainerFetchException) {
                    skipReason = "PolarDB image " + image.asCanonicalNameString() + " is not here and cannot be pulled: "
                            + t.getMessage() + (t.getCause() == null ? "" : " (" + t.getCause().getMessage() + ")");
                    return;
                }
                // the engine's runtime refused to create any container (e.g. podman without
                // .ci/setup.d/40-containers.sh's drop-in here: setrlimit EPERM): not the fixture's fault
                if (t instanceof InternalServerErrorException && String.valueOf(t.getMessage()).contains("OCI")) {
                    skipReason = "the container engine cannot run containers here: " + t.getMessage();
                    return;
                }
            }
            throw e;
        }
    }

    @AfterAll
    static void stop() {
        if (POLARDB != null) {
            POLARDB.stop();
        }
    }

    @BeforeEach
    void requireImage() {
        assumeTrue(skipReason == null, skipReason);
    }

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
