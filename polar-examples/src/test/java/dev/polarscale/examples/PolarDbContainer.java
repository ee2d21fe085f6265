package dev.polarscale.examples;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.ContainerLaunchException;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.utility.DockerImageName;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The public PolarDB-PG 15 image {@code polardb/polardb_pg_local_instance:15} as a Testcontainers
 * fixture: a local-storage instance inside one container whose image documentation says it uses
 * three consecutive ports, 5432 for the primary and 5433, 5434 for its two read-only nodes. The
 * superuser and its password are set through the image's {@code POLARDB_USER} and
 * {@code POLARDB_PASSWORD}; the container runs privileged, as that documentation runs it. It is
 * ready when all three nodes answer {@code SELECT 1} over JDBC with those credentials through
 * their mapped ports (checked from outside: no {@code exec} into the container).
 *
 * <p>Where the public image cannot be pulled, {@link #defaultImage()} takes
 * {@value #LOCAL_IMAGE_NAME}, which {@code .ci/setup.d/40-containers.sh} builds from
 * {@code POLARDB_HOME}: PolarDB-PG 15 with an entrypoint that does what the public image's
 * documentation says (same variables, ports and roles). The fixture has run against that image
 * through Podman's Docker API; it has not run against the public image.
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
    /** The stand-in built on this machine from {@code POLARDB_HOME} by the CI setup. */
    public static final String LOCAL_IMAGE_NAME = "localhost/polarscale/polardb-local:15";
    /** System property naming the image to use instead of {@link #defaultImage()}'s choice. */
    public static final String IMAGE_PROPERTY = "polarscale.polardb.image";
    public static final int PRIMARY_PORT = 5432;
    public static final int[] REPLICA_PORTS = {5433, 5434};

    private final String username;
    private final String password;

    /** The container from {@link #defaultImage()}; needs a Docker client (Testcontainers checks first). */
    public PolarDbContainer() {
        this(defaultImage(), "polarscale", "polarscale-test-" + Long.toHexString(System.nanoTime()));
    }

    /**
     * {@code -Dpolarscale.polardb.image} when set; else the public image when the engine has it;
     * else {@value #LOCAL_IMAGE_NAME} when the engine has that; else the public image, to be pulled.
     */
    public static DockerImageName defaultImage() {
        String configured = System.getProperty(IMAGE_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return DockerImageName.parse(configured).asCompatibleSubstituteFor(IMAGE);
        }
        if (!present(IMAGE.asCanonicalNameString()) && present(LOCAL_IMAGE_NAME)) {
            return DockerImageName.parse(LOCAL_IMAGE_NAME).asCompatibleSubstituteFor(IMAGE);
        }
        return IMAGE;
    }

    private static boolean present(String image) {
        try {
            DockerClientFactory.instance().client().inspectImageCmd(image).exec();
            return true;
        } catch (RuntimeException notThere) {
            return false;
        }
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
        // the image initialises the primary and both replicas before they answer: minutes on a slow host
        waitingFor(new SqlReady().withStartupTimeout(Duration.ofMinutes(5)));
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

    /**
     * Ready when the primary and both replicas accept a JDBC login and answer {@code SELECT 1}:
     * a listening port is not enough (a replica listens before it is consistent and refuses
     * connections meanwhile). Checked from the host through the mapped ports, so it needs no
     * {@code exec} into the container; fails at once if the container stops.
     */
    private final class SqlReady extends AbstractWaitStrategy {
        @Override
        protected void waitUntilReady() {
            long deadline = System.nanoTime() + startupTimeout.toNanos();
            Map<Integer, String> notReady = new LinkedHashMap<>();
            while (true) {
                notReady.clear();
                for (int port : new int[]{PRIMARY_PORT, REPLICA_PORTS[0], REPLICA_PORTS[1]}) {
                    try (Connection c = DriverManager.getConnection(jdbcUrl(port) + "?connectTimeout=2&loginTimeout=2",
                            username, password); Statement s = c.createStatement()) {
                        s.execute("SELECT 1");
                    } catch (SQLException e) {
                        notReady.put(port, e.getMessage());
                    }
                }
                if (notReady.isEmpty()) {
                    return;
                }
                if (!waitStrategyTarget.isRunning()) {
                    throw new ContainerLaunchException("the PolarDB container stopped before its nodes answered: "
                            + notReady + "; log tail:\n" + tail(getLogs(), 30));
                }
                if (System.nanoTime() > deadline) {
                    throw new ContainerLaunchException("PolarDB nodes not answering after " + startupTimeout.toSeconds()
                            + " s (container port: last error): " + notReady + "; log tail:\n" + tail(getLogs(), 30));
                }
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ContainerLaunchException("interrupted while waiting for PolarDB", e);
                }
            }
        }

        private static String tail(String text, int lines) {
            String[] all = text.split("\n");
            return String.join("\n", java.util.Arrays.asList(all).subList(Math.max(0, all.length - lines), all.length));
        }
    }
}
