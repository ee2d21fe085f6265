package dev.polarscale.examples;

import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

import java.time.Duration;

/**
 * The public PolarDB-PG 15 image {@code polardb/polardb_pg_local_instance:15} as a Testcontainers
 * fixture: a local-storage instance inside one container whose image documentation says it uses
 * three consecutive ports, 5432 for the primary and 5433, 5434 for its two read-only nodes. The
 * superuser and its password are set through the image's {@code POLARDB_USER} and
 * {@code POLARDB_PASSWORD}; the container runs privileged, as that documentation runs it.
 * Written against the documentation: it has not run where this was written (no Docker daemon).
 *
 * <pre>{@code
 * @Testcontainers(disabledWithoutDocker = true)
 * class MyPolarDbIT {
 *     @Container
 *     static final PolarDbContainer POLARDB = new PolarDbContainer();
 *
 *     @Test
 *     void answers() throws SQLException {
 *         try (Connection c = DriverManager.getConnection(POLARDB.primaryJdbcUrl(), POLARDB.username(),
 *                 POLARDB.password())) { ... }
 *     }
 * }
 * }</pre>
 */
public class PolarDbContainer extends GenericContainer<PolarDbContainer> {
    public static final DockerImageName IMAGE = DockerImageName.parse("polardb/polardb_pg_local_instance:15");
    public static final int PRIMARY_PORT = 5432;
    public static final int[] REPLICA_PORTS = {5433, 5434};

    private final String username;
    private final String password;

    public PolarDbContainer() {
        this(IMAGE, "polarscale", "polarscale-test-" + Long.toHexString(System.nanoTime()));
    }

    public PolarDbContainer(DockerImageName image, String username, String password) {
        super(image);
        this.username = username;
        this.password = password;
        withEnv("POLARDB_PORT", Integer.toString(PRIMARY_PORT));
        withEnv("POLARDB_USER", username);
        withEnv("POLARDB_PASSWORD", password);
        withExposedPorts(PRIMARY_PORT, REPLICA_PORTS[0], REPLICA_PORTS[1]);
        withPrivilegedMode(true);
        // the image initialises the primary and both replicas before they listen: minutes on a slow host
        waitingFor(Wait.forListeningPorts(PRIMARY_PORT, REPLICA_PORTS[0], REPLICA_PORTS[1])
                .withStartupTimeout(Duration.ofMinutes(5)));
    }

    public String username() {
        return username;
    }

    public String password() {
        return password;
    }

    public String primaryJdbcUrl() {
        return jdbcUrl(PRIMARY_PORT);
    }

    /** JDBC URL of replica 0 or 1. */
    public String replicaJdbcUrl(int index) {
        return jdbcUrl(REPLICA_PORTS[index]);
    }

    private String jdbcUrl(int containerPort) {
        return "jdbc:postgresql://" + getHost() + ":" + getMappedPort(containerPort) + "/postgres";
    }
}
