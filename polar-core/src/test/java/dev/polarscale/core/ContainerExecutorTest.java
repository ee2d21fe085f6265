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

        @Override
        public String host() {
            return "db1:22";
        }

        @Override
        public CommandResult execute(Command command) {
            seen.add(command);
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

    @Test
    void dockerPlain() {
        Command out = delegated(ContainerTarget.docker("polar-primary").build(), Command.of("pg_ctl", "status"));
        assertEquals(List.of("docker", "exec", "polar-primary", "pg_ctl", "status"), out.argv());
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
                "-e", "PGPORT=5433", "-e", "PGDATABASE=my db", "pg1", "psql", "-c", "select 1"), out.argv());
        assertArrayEquals("input".getBytes(StandardCharsets.UTF_8), out.stdin().orElseThrow());
        assertEquals(Duration.ofSeconds(7), out.timeout());
        assertFalse(out.runAs().isPresent(), "the user switch happens inside the container, not on the host");
    }

    @Test
    void podmanWithCustomBinaryAndPrivilegedCommand() {
        ContainerTarget t = ContainerTarget.podman("0123456789ab").binary("/usr/bin/podman").runtimePrivileged().build();
        Command out = delegated(t, Command.of("id", "-u").privileged());
        assertEquals(List.of("/usr/bin/podman", "exec", "-u", "0", "0123456789ab", "id", "-u"), out.argv());
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
