package dev.polarscale.examples;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.testcontainers.dockerclient.DockerClientProviderStrategy;
import org.testcontainers.dockerclient.TransportConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Gives Testcontainers a Docker API where no Docker daemon runs but Podman does: starts
 * {@code podman system service} on a socket in a temporary directory, points Testcontainers at it
 * and stops it when the test run ends. Testcontainers takes its Docker host only from the
 * environment or {@code ~/.testcontainers.properties}, so the socket reaches it through
 * {@link Strategy}, a client provider strategy registered in this module's test resources
 * ({@code META-INF/services}) that applies only once this extension has started the service. Put it BEFORE {@code @Testcontainers} on the class: JUnit evaluates
 * conditions in declaration order, and Testcontainers' {@code disabledWithoutDocker} looks for
 * Docker in its own.
 *
 * <p>Does nothing where a Docker API is already configured ({@code DOCKER_HOST} set, or
 * {@code /var/run/docker.sock} present) or where {@code podman} is missing or cannot run
 * ({@code podman info} fails): Testcontainers then decides, and {@code disabledWithoutDocker}
 * skips where no engine exists. Disables the class, with the reason, when Podman would be used but
 * {@code TESTCONTAINERS_RYUK_DISABLED} is not {@code true}: Testcontainers reads that only from the
 * environment, and its Ryuk image cannot be pulled where only a local image exists (the tests
 * remove their containers themselves). {@code -Dpolarscale.podman.api=false} turns it off.
 *
 * <p>The service is started with {@code --time=120}: if this JVM dies without stopping it, it
 * exits by itself two minutes after its last request.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(PodmanDockerApi.Extension.class)
public @interface PodmanDockerApi {

    /** The condition that starts the service once per test run. */
    final class Extension implements ExecutionCondition {
        private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            if ("false".equals(System.getProperty("polarscale.podman.api"))) {
                return ConditionEvaluationResult.enabled("-Dpolarscale.podman.api=false: Testcontainers decides");
            }
            if (System.getProperty(Strategy.PROPERTY) != null) {
                return ConditionEvaluationResult.enabled("podman's Docker API at " + System.getProperty(Strategy.PROPERTY));
            }
            String dockerHost = System.getenv("DOCKER_HOST");
            if (dockerHost != null && !dockerHost.isBlank()) {
                return ConditionEvaluationResult.enabled("DOCKER_HOST=" + dockerHost);
            }
            if (Files.exists(Path.of("/var/run/docker.sock"))) {
                return ConditionEvaluationResult.enabled("a Docker socket exists");
            }
            String podman = podmanProblem();
            if (podman != null) {
                return ConditionEvaluationResult.enabled("no Docker API and no usable podman (" + podman
                        + "): Testcontainers decides");
            }
            if (!"true".equalsIgnoreCase(System.getenv("TESTCONTAINERS_RYUK_DISABLED"))) {
                return ConditionEvaluationResult.disabled("only podman's Docker API is available and Testcontainers "
                        + "would start Ryuk, whose image cannot be pulled here: set TESTCONTAINERS_RYUK_DISABLED=true "
                        + "(as .ci/setup.d/40-containers.sh does)");
            }
            Service service = context.getRoot().getStore(ExtensionContext.Namespace.create(PodmanDockerApi.class))
                    .getOrComputeIfAbsent(Service.class, k -> Service.start(), Service.class);
            System.setProperty(Strategy.PROPERTY, service.dockerHost());
            return ConditionEvaluationResult.enabled("podman's Docker API at " + service.dockerHost());
        }

        private static String podmanProblem() {
            try {
                Process p = new ProcessBuilder("podman", "info", "--format", "{{.Host.OCIRuntime.Name}}")
                        .redirectErrorStream(true).start();
                p.getOutputStream().close();
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return "'podman info' did not answer in 20 s";
                }
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                return p.exitValue() == 0 ? null : "'podman info' exited " + p.exitValue() + ": " + out;
            } catch (IOException e) {
                return e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        }
    }

    /**
     * Testcontainers' way to the socket this extension started: applicable only while the
     * system property {@value #PROPERTY} names it, tried before the default strategies, and
     * never persisted to {@code ~/.testcontainers.properties}.
     */
    final class Strategy extends DockerClientProviderStrategy {
        static final String PROPERTY = "polarscale.podman.dockerHost";

        public Strategy() {
        }

        @Override
        public String getDescription() {
            return "podman system service started by PolarScale's tests: " + System.getProperty(PROPERTY);
        }

        @Override
        protected boolean isApplicable() {
            return System.getProperty(PROPERTY) != null;
        }

        @Override
        protected boolean isPersistable() {
            return false;
        }

        @Override
        protected int getPriority() {
            return 200;
        }

        @Override
        public TransportConfig getTransportConfig() {
            return TransportConfig.builder().dockerHost(URI.create(System.getProperty(PROPERTY))).build();
        }

        /**
         * The service runs on this machine, so published ports are on its loopback. Testcontainers
         * would otherwise take the bridge's gateway (10.88.0.1) whenever {@code /.dockerenv}
         * exists, as it does in this sandbox.
         */
        @Override
        public synchronized String getDockerHostIpAddress() {
            return "localhost";
        }

        @Override
        public String getRemoteDockerUnixSocketPath() {
            return URI.create(System.getProperty(PROPERTY)).getPath();
        }
    }

    /** A running {@code podman system service}; closing it stops the process and deletes its directory. */
    final class Service implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        private static final Logger LOG = LoggerFactory.getLogger(PodmanDockerApi.class);
        private final Process process;
        private final Path dir;
        private final Path socket;

        private Service(Process process, Path dir, Path socket) {
            this.process = process;
            this.dir = dir;
            this.socket = socket;
        }

        static Service start() {
            Path dir;
            try {
                dir = Files.createTempDirectory("polarscale-podman-api-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path socket = dir.resolve("podman.sock");
            Process p;
            try {
                p = new ProcessBuilder(List.of("podman", "system", "service", "--time=120", "unix://" + socket))
                        .redirectErrorStream(true).redirectOutput(dir.resolve("service.log").toFile()).start();
                p.getOutputStream().close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start podman system service", e);
            }
            Service s = new Service(p, dir, socket);
            long deadline = System.nanoTime() + Extension.START_TIMEOUT.toNanos();
            String last = "no answer";
            while (System.nanoTime() < deadline && p.isAlive()) {
                try {
                    if (s.ping()) {
                        LOG.info("podman system service (pid {}) answers at {}", p.pid(), s.dockerHost());
                        return s;
                    }
                } catch (IOException e) {
                    last = e.getMessage();
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            String log = s.log();
            s.close();
            throw new IllegalStateException("podman system service did not answer at " + socket + " within "
                    + Extension.START_TIMEOUT.toSeconds() + " s (" + last + "): " + log);
        }

        String dockerHost() {
            return "unix://" + socket;
        }

        /** {@code GET /_ping} over the socket: {@code OK} from a Docker API. */
        boolean ping() throws IOException {
            if (!Files.exists(socket)) {
                return false;
            }
            try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                ch.write(ByteBuffer.wrap("GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
                ByteBuffer buf = ByteBuffer.allocate(4096);
                StringBuilder answer = new StringBuilder();
                while (ch.read(buf) > 0) {
                    buf.flip();
                    answer.append(StandardCharsets.US_ASCII.decode(buf));
                    buf.clear();
                }
                return answer.toString().startsWith("HTTP/1.") && answer.toString().endsWith("OK");
            }
        }

        private String log() {
            try {
                return Files.readString(dir.resolve("service.log"));
            } catch (IOException e) {
                return "(no log: " + e.getMessage() + ")";
            }
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            LOG.info("podman system service (pid {}) stopped: exit {}", process.pid(),
                    process.isAlive() ? "still running!" : Integer.toString(process.exitValue()));
            try {
                Files.deleteIfExists(dir.resolve("service.log"));
                Files.deleteIfExists(socket);
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                LOG.warn("cannot delete {}: {}", dir, e.getMessage());
            }
        }
    }
}
