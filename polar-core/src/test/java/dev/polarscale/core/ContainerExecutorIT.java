package dev.polarscale.core;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code Executors.container} against a real Docker or Podman container. Skipped, with the
 * reason, when neither runtime answers {@code info} within a few seconds. The image is
 * {@code -Dpolarscale.it.image} (default {@code alpine:3.20}); it needs {@code sh}, {@code cat},
 * {@code id} and a {@code nobody} user.
 */
class ContainerExecutorIT {
    private static final CommandExecutor LOCAL = Executors.local();
    private static String runtime;
    private static String container;
    private static CommandExecutor inContainer;
    private static String skipReason;

    /**
     * Finds a runtime and starts the container once. A missing runtime is not an error here:
     * each test is then skipped in {@link #requireRuntime()} (an assumption failing in
     * {@code @BeforeAll} makes Failsafe report zero tests and fail the build instead of a skip).
     */
    @BeforeAll
    static void startContainer() {
        StringBuilder why = new StringBuilder();
        for (String candidate : List.of("docker", "podman")) {
            String problem = probe(candidate);
            if (problem == null) {
                runtime = candidate;
                break;
            }
            why.append(candidate).append(": ").append(problem).append("; ");
        }
        if (runtime == null) {
            skipReason = "no container runtime: " + why;
            return;
        }

        String image = System.getProperty("polarscale.it.image", "alpine:3.20");
        container = "polarscale-it-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000;
        CommandResult started = LOCAL.execute(Command.of(runtime, "run", "-d", "--rm", "--name", container,
                image, "sleep", "600").withTimeout(Duration.ofMinutes(3)));
        if (!started.succeeded()) {
            skipReason = "cannot start a test container from " + image + " with " + runtime + ": "
                    + started.stderrTail(5);
            container = null;
            return;
        }
        ContainerTarget target = runtime.equals("docker") ? ContainerTarget.docker(container).build()
                : ContainerTarget.podman(container).build();
        inContainer = Executors.container(LOCAL, target);
    }

    @BeforeEach
    void requireRuntime() {
        assumeTrue(inContainer != null, skipReason);
    }

    /** {@code null} when {@code <runtime> info} exits 0 within 5 s, else why not. */
    private static String probe(String runtime) {
        try {
            CommandResult r = LOCAL.execute(Command.of(runtime, "info").withTimeout(Duration.ofSeconds(5)));
            return r.succeeded() ? null
                    : "'" + runtime + " info' exited " + r.exitCode() + ": " + r.stderrTail(2).strip();
        } catch (PolarException e) {
            return e.getMessage();
        }
    }

    @AfterAll
    static void removeContainer() {
        if (container != null) {
            LOCAL.execute(Command.of(runtime, "rm", "-f", container).withTimeout(Duration.ofSeconds(30)));
        }
    }

    @Test
    void exitCodeAndOutput() {
        CommandResult r = inContainer.execute(Command.of("sh", "-c", "echo out; echo err >&2; exit 3"));
        assertEquals(3, r.exitCode());
        assertEquals("out\n", r.stdout());
        assertEquals("err\n", r.stderr());
    }

    @Test
    void stdinEnvAndWorkingDirectory() {
        assertEquals("päyload 'x'\n", inContainer.run(Command.of("cat").withStdin("päyload 'x'\n")).stdout());
        assertEquals("a b $c", inContainer.run(Command.of("sh", "-c", "printf %s \"$V\"").withEnv("V", "a b $c"))
                .stdout());
        assertEquals("/tmp\n", inContainer.run(Command.of("pwd").withWorkingDirectory(Path.of("/tmp"))).stdout());
    }

    @Test
    void runsAsTheRequestedUser() {
        assertEquals("nobody\n", inContainer.run(Command.of("id", "-un").asUser("nobody")).stdout());
        assertEquals("0\n", inContainer.run(Command.of("id", "-u").privileged()).stdout());
    }

    @Test
    void timeoutIsReported() {
        CommandTimeoutException e = assertThrows(CommandTimeoutException.class,
                () -> inContainer.execute(Command.of("sleep", "30").withTimeout(Duration.ofSeconds(1))));
        assertTrue(e.getMessage().contains(container), e.getMessage());
    }

    @Test
    void secretsAreMaskedInFailures() {
        String secret = "pw-" + System.nanoTime();
        CommandFailedException e = assertThrows(CommandFailedException.class, () -> inContainer.run(
                Command.of("sh", "-c", "echo \"bad $PGPASSWORD\" >&2; exit 1").withEnv("PGPASSWORD", secret)));
        assertFalse(e.getMessage().contains(secret), e.getMessage());
        assertTrue(e.getMessage().contains("bad " + Command.MASK), e.getMessage());
    }
}
