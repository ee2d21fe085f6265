package dev.polarscale.core;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code Executors.container} against a real Docker or Podman container. Skipped, with the
 * reason, when neither runtime answers {@code info} within a few seconds or cannot start a
 * container. The image is {@code -Dpolarscale.it.image}, else the locally built
 * {@code localhost/polarscale/pg15} when present ({@code .ci/setup.d/40-containers.sh} builds it),
 * else {@code alpine:3.20}; it needs {@code sh}, {@code cat}, {@code id}, {@code ps},
 * {@code sha256sum} and a {@code nobody} user. The container has no network and stops by itself
 * after ten minutes if this JVM dies before removing it.
 */
class ContainerExecutorIT {
    private static final CommandExecutor LOCAL = Executors.local();
    static final String LOCAL_IMAGE = "localhost/polarscale/pg15:latest";
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

        String image = image(runtime);
        container = "polarscale-it-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000;
        CommandResult started = LOCAL.execute(Command.of(runtime, "run", "-d", "--rm", "--init", "--network=none",
                "--name", container, image, "sleep", "600").withTimeout(Duration.ofMinutes(3)));
        if (!started.succeeded()) {
            skipReason = "cannot start a test container from " + image + " with " + runtime + ": "
                    + started.stderrTail(5);
            LOCAL.execute(Command.of(runtime, "rm", "-f", container).withTimeout(Duration.ofSeconds(30)));
            container = null;
            return;
        }
        inContainer = Executors.container(LOCAL, target(container));
    }

    /** {@code -Dpolarscale.it.image}, else the PolarScale image when built here, else alpine. */
    static String image(String runtime) {
        String configured = System.getProperty("polarscale.it.image");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        boolean local = LOCAL.execute(Command.of(runtime, "image", "inspect", LOCAL_IMAGE)
                .withTimeout(Duration.ofSeconds(30))).succeeded();
        return local ? LOCAL_IMAGE : "alpine:3.20";
    }

    private static ContainerTarget target(String name) {
        return runtime.equals("docker") ? ContainerTarget.docker(name).build() : ContainerTarget.podman(name).build();
    }

    @BeforeEach
    void requireRuntime() {
        assumeTrue(inContainer != null, skipReason);
    }

    /** {@code null} when {@code <runtime> info} exits 0 within 5 s, else why not. */
    static String probe(String runtime) {
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
            LOCAL.execute(Command.of(runtime, "rm", "-f", "-t", "0", container).withTimeout(Duration.ofSeconds(60)));
            CommandResult gone = LOCAL.execute(Command.of(runtime, "container", "inspect", container)
                    .withTimeout(Duration.ofSeconds(30)));
            assertFalse(gone.succeeded(), "test container " + container + " is still there");
        }
    }

    @Test
    void exitCodeAndOutput() {
        CommandResult r = inContainer.execute(Command.of("sh", "-c", "echo out; echo err >&2; exit 3"));
        assertEquals(3, r.exitCode());
        assertEquals("out\n", r.stdout());
        assertEquals("err\n", r.stderr());
    }

    /** The command's own exit codes come back unchanged, also the shell's 126/127 and a signal's 128+n. */
    @Test
    void exitCodesPassThrough() {
        for (int code : new int[]{0, 1, 2, 124, 125, 200, 255}) {
            assertEquals(code, inContainer.execute(Command.of("sh", "-c", "exit " + code)).exitCode(), "exit " + code);
        }
        assertEquals(137, inContainer.execute(Command.of("sh", "-c", "kill -KILL $$")).exitCode(), "SIGKILL");
        assertEquals(143, inContainer.execute(Command.of("sh", "-c", "kill -TERM $$")).exitCode(), "SIGTERM");
        assertEquals(127, inContainer.execute(Command.of("/no/such/program")).exitCode(), "not found");
        assertEquals(126, inContainer.execute(Command.of("/etc/passwd")).exitCode(), "not executable");
        CommandFailedException e = assertThrows(CommandFailedException.class,
                () -> inContainer.run(Command.of("sh", "-c", "echo why >&2; exit 9")));
        assertEquals(9, e.exitCode());
        assertTrue(e.getMessage().contains("why"), e.getMessage());
    }

    /** Every argument arrives as one argument, byte for byte: no shell, no splitting, no trimming. */
    @Test
    void argvArrivesByteExact() {
        List<String> args = List.of("", " ", " lead", "trail ", "two  spaces", "'", "\"", "'\"'\"'", "\\", "\\n",
                "$HOME", "${PATH}", "$(id)", "`id`", "*", "?", "[a]", "~", "-e", "--", "-u", "--user=0", "x\ny",
                "tab\there", "cr\rlf", "üñïçødé ☃ 𝄞", "%s%n", "a=b", ";|&<>(){}!#", "\u0001\u007f");
        List<String> argv = new ArrayList<>(List.of("sh", "-c", "for a; do printf '%s\\0' \"$a\"; done", "sh"));
        argv.addAll(args);
        CommandResult r = inContainer.run(Command.of(argv));
        assertEquals(args, split0(r.stdout()));
        // the same through printf's own argv, so sh's word handling is not what is being tested
        assertEquals("-e|--|\n", inContainer.run(Command.of("printf", "%s|%s|\\n", "-e", "--")).stdout());
    }

    @Test
    void environmentArrivesByteExact() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("EMPTY", "");
        env.put("SPACES", " a  b ");
        env.put("QUOTES", "'\"`$(id)`\"'");
        env.put("EQUALS", "a=b=c");
        env.put("NEWLINE", "line1\nline2");
        env.put("UNICODE", "ümlaut ☃");
        env.put("DASH", "-e X=Y");
        Command c = Command.of("sh", "-c", "for n in EMPTY SPACES QUOTES EQUALS NEWLINE UNICODE DASH; do "
                + "eval \"printf '%s\\0' \\\"\\${$n-unset}\\\"\"; done; printf '%s\\0' \"${X-unset}\"").withEnv(env);
        List<String> expected = new ArrayList<>(env.values());
        expected.add("unset");
        assertEquals(expected, split0(inContainer.run(c).stdout()));
    }

    @Test
    void stdinArrivesByteExact() throws Exception {
        assertEquals("päyload 'x'\n", inContainer.run(Command.of("cat").withStdin("päyload 'x'\n")).stdout());
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new Random(42).nextBytes(data);
        for (int i = 0; i < 256; i++) {
            data[i] = (byte) i;
        }
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        CommandResult r = inContainer.run(Command.of("sha256sum").withStdin(data).withTimeout(Duration.ofSeconds(60)));
        assertEquals(expected, r.stdout().split("\\s+")[0]);
        // no stdin given: the process sees an empty, closed one, not the JVM's
        assertEquals("", inContainer.run(Command.of("cat").withTimeout(Duration.ofSeconds(20))).stdout());
    }

    @Test
    void workingDirectory() {
        assertEquals("/tmp\n", inContainer.run(Command.of("pwd").withWorkingDirectory(Path.of("/tmp"))).stdout());
        CommandResult r = inContainer.execute(Command.of("pwd").withWorkingDirectory(Path.of("/no/such/dir")));
        assertFalse(r.succeeded(), "a missing working directory must fail, not run elsewhere: " + r);
    }

    @Test
    void runsAsTheRequestedUser() {
        assertEquals("root\n", inContainer.run(Command.of("id", "-un")).stdout(), "the image's default user");
        assertEquals("nobody\n", inContainer.run(Command.of("id", "-un").asUser("nobody")).stdout());
        assertEquals("0\n", inContainer.run(Command.of("id", "-u").privileged()).stdout());
        // files made as that user belong to it
        inContainer.run(Command.of("sh", "-c", "rm -f /tmp/by-nobody && touch /tmp/by-nobody").asUser("nobody"));
        assertEquals("nobody\n", inContainer.run(Command.of("stat", "-c", "%U", "/tmp/by-nobody")).stdout());
        CommandResult noUser = inContainer.execute(Command.of("id").asUser("no_such_user"));
        assertFalse(noUser.succeeded(), "an unknown user must not fall back to root: " + noUser);
    }

    @Test
    void timeoutIsReported() {
        long t0 = System.nanoTime();
        CommandTimeoutException e = assertThrows(CommandTimeoutException.class,
                () -> inContainer.execute(Command.of("sleep", "30").withTimeout(Duration.ofSeconds(1))));
        assertTrue(e.getMessage().contains(container), e.getMessage());
        assertTrue(Duration.ofNanos(System.nanoTime() - t0).compareTo(Duration.ofSeconds(15)) < 0,
                "the timeout must not wait for the command");
    }

    /**
     * Killing the CLI on timeout leaves the process inside running (shown first, with a plain
     * {@code exec} that carries no marker); the executor kills it and the children it forked,
     * also when it ran as another user, so nothing of the command is left in the container.
     */
    @Test
    void timeoutLeavesNothingRunningInTheContainer() {
        // what the engine does by itself: the client dies, the process stays
        CommandTimeoutException plain = assertThrows(CommandTimeoutException.class, () -> LOCAL.execute(
                Command.of(runtime, "exec", container, "sleep", "307").withTimeout(Duration.ofSeconds(1))));
        assertTrue(plain.getMessage().contains("timed out"), plain.getMessage());
        assertTrue(awaitProcesses("sleep 307", 1, Duration.ofSeconds(5)), "a killed " + runtime
                + " exec client leaves its process running; ps: " + ps());
        LOCAL.run(Command.of(runtime, "exec", container, "sh", "-c",
                "kill -KILL $(ps -o pid,args | awk '$2 == \"sleep\" && $3 == \"307\" {print $1}')")
                .withTimeout(Duration.ofSeconds(30)));
        assertTrue(awaitProcesses("sleep 307", 0, Duration.ofSeconds(10)), ps());

        for (Command c : List.of(
                Command.of("sh", "-c", "sleep 301 & sleep 302 & wait"),
                Command.of("sh", "-c", "sleep 303 & exec sleep 304").asUser("nobody"),
                Command.of("sh", "-c", "(sleep 305 &) ; sleep 306").privileged())) {
            CommandTimeoutException e = assertThrows(CommandTimeoutException.class,
                    () -> inContainer.execute(c.withTimeout(Duration.ofSeconds(1))));
            assertTrue(e.getMessage().contains("processes in the container were killed"), e.getMessage());
            String left = ps();
            for (String n : List.of("sleep 301", "sleep 302", "sleep 303", "sleep 304", "sleep 305", "sleep 306")) {
                assertFalse(left.contains(n), n + " survived the timeout of " + c + ":\n" + left);
            }
        }
    }

    @Test
    void secretsAreMaskedInFailures() {
        String secret = "pw-" + System.nanoTime();
        CommandFailedException e = assertThrows(CommandFailedException.class, () -> inContainer.run(
                Command.of("sh", "-c", "echo \"bad $PGPASSWORD\" >&2; exit 1").withEnv("PGPASSWORD", secret)));
        assertFalse(e.getMessage().contains(secret), e.getMessage());
        assertTrue(e.getMessage().contains("bad " + Command.MASK), e.getMessage());
    }

    /** A container that is gone is the host being unreachable, not a command exiting 125. */
    @Test
    void aMissingContainerIsAnEnvironmentFailure() {
        CommandExecutor gone = Executors.container(LOCAL, target("polarscale-it-gone-" + System.nanoTime()));
        PolarException e = assertThrows(PolarException.class, () -> gone.execute(Command.of("true")));
        assertEquals(PolarException.Reason.HOST_UNREACHABLE, e.reason());
        assertTrue(e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("no such container")
                || e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("no container"), e.getMessage());
    }

    /** The processes of the container, listed from the host with a plain exec. */
    private static String ps() {
        return LOCAL.run(Command.of(runtime, "exec", container, "ps", "-o", "pid,user,args")
                .withTimeout(Duration.ofSeconds(30))).stdout();
    }

    private static boolean awaitProcesses(String args, int count, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            long n = ps().lines().filter(l -> l.endsWith(args)).count();
            if (n == count) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    private static List<String> split0(String s) {
        assertTrue(s.isEmpty() || s.endsWith("\0"), "NUL-terminated output expected: " + s);
        return s.isEmpty() ? List.of() : Arrays.asList(s.substring(0, s.length() - 1).split("\0", -1));
    }
}
