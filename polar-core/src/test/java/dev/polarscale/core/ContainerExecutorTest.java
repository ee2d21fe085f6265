package dev.polarscale.core;

import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@code Executors.container} hands to the executor it runs through; no processes. */
class ContainerExecutorTest {

    /** Records the commands it is asked to run and answers with a canned result. */
    private static final class Recorder implements CommandExecutor {
        final List<Command> seen = new ArrayList<>();
        CommandResult answer = new CommandResult(0, "", "", Duration.ZERO);
        RuntimeException failure;
        /** Answers (a CommandResult or a RuntimeException to throw) for the next calls, before the fixed ones. */
        final java.util.Deque<Object> script = new java.util.ArrayDeque<>();

        @Override
        public String host() {
            return "db1:22";
        }

        @Override
        public CommandResult execute(Command command) {
            seen.add(command);
            Object next = script.poll();
            if (next instanceof RuntimeException e) {
                throw e;
            }
            if (next instanceof CommandResult r) {
                return r;
            }
            if (failure != null) {
                throw failure;
            }
            return answer;
        }
    }

    private static Command delegated(ContainerTarget target, Command inner) {
        Recorder via = new Recorder();
        Executors.container(via, target).execute(inner);
        assertEquals(1, via.seen.size());
        return via.seen.get(0);
    }

    /**
     * The {@code POLARSCALE_EXEC_ID=<16 hex digits>} argument a Docker/Podman command carries, so
     * that what it leaves in the container after a timeout can be found and killed.
     */
    private static String marker(Command out) {
        List<String> marks = out.argv().stream().filter(a -> a.startsWith("POLARSCALE_EXEC_ID=")).toList();
        assertEquals(1, marks.size(), out.argv().toString());
        assertTrue(marks.get(0).matches("POLARSCALE_EXEC_ID=[0-9a-f]{16}"), marks.get(0));
        return marks.get(0);
    }

    @Test
    void dockerPlain() {
        Command out = delegated(ContainerTarget.docker("polar-primary").build(), Command.of("pg_ctl", "status"));
        assertEquals(List.of("docker", "exec", "-e", marker(out), "polar-primary", "pg_ctl", "status"), out.argv());
        assertTrue(out.environment().isEmpty());
        assertFalse(out.runAs().isPresent());
    }

    @Test
    void dockerWithUserWorkdirEnvAndStdin() {
        Command inner = Command.of("psql", "-c", "select 1")
                .asUser("postgres")
                .withWorkingDirectory(Path.of("/var/lib/polar"))
                .withEnv("PGPORT", "5433")
                .withEnv("PGDATABASE", "my db")
                .withStdin("input")
                .withTimeout(Duration.ofSeconds(7));
        Command out = delegated(ContainerTarget.docker("pg1").build(), inner);
        assertEquals(List.of("docker", "exec", "-i", "-u", "postgres", "-w", "/var/lib/polar",
                "-e", "PGPORT=5433", "-e", "PGDATABASE=my db", "-e", marker(out), "pg1", "psql", "-c", "select 1"),
                out.argv());
        assertArrayEquals("input".getBytes(StandardCharsets.UTF_8), out.stdin().orElseThrow());
        assertEquals(Duration.ofSeconds(7), out.timeout());
        assertFalse(out.runAs().isPresent(), "the user switch happens inside the container, not on the host");
    }

    @Test
    void podmanWithCustomBinaryAndPrivilegedCommand() {
        ContainerTarget t = ContainerTarget.podman("0123456789ab").binary("/usr/bin/podman").runtimePrivileged().build();
        Command out = delegated(t, Command.of("id", "-u").privileged());
        assertEquals(List.of("/usr/bin/podman", "exec", "-u", "0", "-e", marker(out), "0123456789ab", "id", "-u"),
                out.argv());
        assertTrue(out.isPrivileged(), "runtimePrivileged runs the CLI itself as root");
    }

    @Test
    void kubectlWithNamespaceContainerEnvAndWorkdir() {
        ContainerTarget t = ContainerTarget.kubectl("polar-replica-0").namespace("db").container("postgres").build();
        Command inner = Command.of("pg_ctl", "-D", "/data", "status")
                .withEnv("PGDATA", "/data")
                .withWorkingDirectory(Path.of("/tmp/work dir"));
        Command out = delegated(t, inner);
        assertEquals(List.of("kubectl", "exec", "polar-replica-0", "-n", "db", "-c", "postgres", "--",
                "sh", "-c", "cd -- \"$1\" && shift && exec \"$@\"", "sh", "/tmp/work dir",
                "env", "PGDATA=/data", "pg_ctl", "-D", "/data", "status"), out.argv());
    }

    @Test
    void kubectlMinimalWithStdin() {
        Command out = delegated(ContainerTarget.kubectl("pod-1").build(), Command.of("cat").withStdin("x"));
        assertEquals(List.of("kubectl", "exec", "-i", "pod-1", "--", "cat"), out.argv());
    }

    @Test
    void kubectlRejectsAUserSwitch() {
        ContainerTarget t = ContainerTarget.kubectl("pod-1").build();
        Recorder via = new Recorder();
        CommandExecutor x = Executors.container(via, t);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> x.execute(Command.of("id").asUser("postgres")));
        assertTrue(e.getMessage().contains("kubectl exec cannot switch user"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.execute(Command.of("id").privileged()));
        assertTrue(via.seen.isEmpty(), "nothing may run");
    }

    @Test
    void secretsStayMaskedInTheDelegatedCommandAndInFailures() {
        String secret = "s3cr3t-'pw'";
        Recorder via = new Recorder();
        via.answer = new CommandResult(2, "", "psql: password " + secret + " rejected\n", Duration.ofMillis(5));
        CommandExecutor x = Executors.container(via, ContainerTarget.docker("pg1").build());
        Command inner = Command.of("psql", "-c", "select 1").withEnv("PGPASSWORD", secret);

        CommandFailedException e = assertThrows(CommandFailedException.class, () -> x.run(inner));
        Command out = via.seen.get(0);
        assertTrue(out.argv().contains("PGPASSWORD=" + secret), "the real value must reach docker");
        assertFalse(out.toString().contains(secret), out.toString());
        assertFalse(out.redactedArgv().toString().contains(secret), out.redactedArgv().toString());
        assertTrue(out.toString().contains("PGPASSWORD=" + Command.MASK), out.toString());
        assertFalse(e.getMessage().contains(secret), e.getMessage());
        assertFalse(e.redactedArgv().toString().contains(secret));
        assertEquals(Optional.of("db1:22/docker:pg1"), e.host());

        Command custom = Command.of("tool", "--token", "tok-123").withSecret("tok-123");
        Command outCustom = delegated(ContainerTarget.kubectl("p").build(), custom);
        assertFalse(outCustom.toString().contains("tok-123"), outCustom.toString());
    }

    @Test
    void outputListenerPassesThrough() {
        OutputListener l = (stream, line) -> { };
        Command out = delegated(ContainerTarget.docker("pg1").build(), Command.of("ls").withOutputListener(l));
        assertSame(l, out.outputListener().orElseThrow());
    }

    @Test
    void timeoutIsReportedForTheContainer() {
        Recorder via = new Recorder();
        via.failure = new CommandTimeoutException("db1:22", List.of("docker", "exec"), Duration.ofSeconds(1), "t");
        CommandExecutor x = Executors.container(via, ContainerTarget.docker("pg1").build());
        CommandTimeoutException e = assertThrows(CommandTimeoutException.class,
                () -> x.execute(Command.of("sleep", "9").withTimeout(Duration.ofSeconds(1))));
        assertEquals(Optional.of("db1:22/docker:pg1"), e.host());
        assertEquals(List.of("sleep", "9"), e.redactedArgv());
        assertSame(via.failure, e.getCause());
    }

    @Test
    void everyCommandGetsItsOwnMarkerButKubectlNone() {
        Recorder via = new Recorder();
        CommandExecutor x = Executors.container(via, ContainerTarget.podman("pg1").build());
        x.execute(Command.of("true"));
        x.execute(Command.of("true"));
        assertFalse(marker(via.seen.get(0)).equals(marker(via.seen.get(1))), "markers must differ per command");
        Command k = delegated(ContainerTarget.kubectl("pod-1").build(), Command.of("true"));
        assertEquals(List.of("kubectl", "exec", "pod-1", "--", "true"), k.argv());
    }

    @Test
    void timeoutKillsWhatTheCommandLeftInTheContainerAsTheSameUser() {
        Recorder via = new Recorder();
        via.script.add(new CommandTimeoutException("localhost", List.of("podman"), Duration.ofSeconds(1), "t"));
        via.script.add(new CommandResult(0, "killed 12 13\n", "", Duration.ofMillis(3)));
        CommandExecutor x = Executors.container(via, ContainerTarget.podman("pg1").build());
        Command slow = Command.of("pg_basebackup", "-D", "/data").asUser("postgres").withTimeout(Duration.ofSeconds(1));
        CommandTimeoutException e = assertThrows(CommandTimeoutException.class, () -> x.execute(slow));

        assertEquals(2, via.seen.size());
        String mark = marker(via.seen.get(0));
        List<String> kill = via.seen.get(1).argv();
        assertEquals(List.of("podman", "exec", "-u", "postgres", "pg1", "sh", "-c"), kill.subList(0, 7));
        assertEquals(List.of("sh", mark), kill.subList(8, 10), "the marker is the kill script's argument");
        assertFalse(kill.contains("-e"), "the killer itself carries no marker: " + kill);
        assertTrue(e.getMessage().contains("processes in the container were killed (PIDs 12 13)"), e.getMessage());
        assertEquals(Optional.of("db1:22/podman:pg1"), e.host());
    }

    @Test
    void aTimeoutWhoseCleanupFailsSaysSo() {
        Recorder via = new Recorder();
        via.script.add(new CommandTimeoutException("localhost", List.of("docker"), Duration.ofSeconds(1), "t"));
        via.script.add(new CommandResult(127, "", "sh: not found\n", Duration.ofMillis(3)));
        CommandExecutor x = Executors.container(via, ContainerTarget.docker("pg1").build());
        CommandTimeoutException e = assertThrows(CommandTimeoutException.class,
                () -> x.execute(Command.of("sleep", "9").privileged().withTimeout(Duration.ofSeconds(1))));
        assertEquals(List.of("docker", "exec", "-u", "0", "pg1", "sh", "-c"), via.seen.get(1).argv().subList(0, 7));
        assertTrue(e.getMessage().contains("could not all be killed (exit 127"), e.getMessage());
        assertTrue(e.getMessage().contains("they may still run"), e.getMessage());
    }

    @Test
    void theEnginesOwnErrorsAreNotExitCodes() {
        Recorder via = new Recorder();
        CommandExecutor podman = Executors.container(via, ContainerTarget.podman("gone").build());
        via.answer = new CommandResult(125, "", "Error: no container with name or ID \"gone\" found: no such container\n",
                Duration.ZERO);
        PolarException e = assertThrows(PolarException.class, () -> podman.execute(Command.of("true")));
        assertEquals(PolarException.Reason.HOST_UNREACHABLE, e.reason());
        assertEquals(Optional.of("db1:22/podman:gone"), e.host());
        assertTrue(e.getMessage().contains("no such container"), e.getMessage());

        via.answer = new CommandResult(125, "", "my own error\n", Duration.ZERO);
        assertEquals(125, podman.execute(Command.of("sh", "-c", "exit 125")).exitCode(), "the command's own 125");

        CommandExecutor docker = Executors.container(via, ContainerTarget.docker("gone").build());
        via.answer = new CommandResult(1, "", "Error response from daemon: No such container: gone\n", Duration.ZERO);
        assertEquals(PolarException.Reason.HOST_UNREACHABLE,
                assertThrows(PolarException.class, () -> docker.execute(Command.of("true"))).reason());

        CommandExecutor kubectl = Executors.container(via, ContainerTarget.kubectl("gone").build());
        assertEquals(1, kubectl.execute(Command.of("true")).exitCode(), "kubectl's errors are not recognised");
    }

    @Test
    void targetValidation() {
        assertThrows(IllegalArgumentException.class, () -> ContainerTarget.docker("-it"));
        assertThrows(IllegalArgumentException.class, () -> ContainerTarget.docker("a b"));
        assertThrows(IllegalArgumentException.class, () -> ContainerTarget.kubectl("Upper_Case"));
        assertThrows(IllegalArgumentException.class, () -> ContainerTarget.docker("pg1").namespace("db"));
        assertThrows(IllegalArgumentException.class, () -> ContainerTarget.podman("pg1").container("c"));
        assertThrows(IllegalArgumentException.class, () -> ContainerTarget.kubectl("p").namespace("-n"));
        assertThrows(IllegalArgumentException.class, () -> ContainerTarget.kubectl("p").binary(" "));
        assertThrows(IllegalArgumentException.class, () -> ContainerTarget.kubectl("p").binary("--kubeconfig=x"));
        assertEquals("kubectl:db/p/c", ContainerTarget.kubectl("p").namespace("db").container("c").build().toString());
        assertEquals("docker", ContainerTarget.docker("pg1").build().binary());
        assertEquals("podman", ContainerTarget.podman("pg1").build().binary());
    }
}
