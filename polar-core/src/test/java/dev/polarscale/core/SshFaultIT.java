package dev.polarscale.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults under the executors, on real processes: the SSH server stopped in the middle of a
 * command and started again on the same address with the same host key (a reboot of the host's
 * sshd), and a command that hangs past its timeout, locally and over SSH, with its children.
 * Strict host-key checking is covered by {@link SshExecutorIT#unknownHostKeyIsRejectedByDefault}.
 */
class SshFaultIT {

    @TempDir
    Path dir;

    @Test
    void serverStoppedMidCommandIsConnectionLostAndARetryAfterRestartSucceeds() throws Exception {
        Path home = Files.createDirectories(dir.resolve("home"));
        ShellSshServer server = new ShellSshServer(home);
        int port = server.port();
        Path knownHosts = dir.resolve("known_hosts");
        Files.writeString(knownHosts, server.knownHostsLine(server.hostKey));
        SshTarget target = SshTarget.builder().host("127.0.0.1").port(port).user(ShellSshServer.USER)
                .keyPair(server.clientKey).knownHostsFile(knownHosts)
                .connectTimeout(Duration.ofSeconds(5)).authTimeout(Duration.ofSeconds(5)).build();
        try (CommandExecutor ssh = Executors.ssh(target)) {
            ssh.run(Command.of("true"));
            String marker = "polar-ssh-cut-" + System.nanoTime();
            Command step = Command.of("sh", "-c", "sleep 30; echo done", marker).withTimeout(Duration.ofSeconds(60));
            CompletableFuture<CommandResult> running = CompletableFuture.supplyAsync(() -> ssh.execute(step));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (server.startedMatching(marker).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertFalse(server.startedMatching(marker).isEmpty(), "command never started");
            long t0 = System.nanoTime();
            server.close(); // the host's sshd goes away, and with it the session's processes
            ExecutionException e = assertThrows(ExecutionException.class, () -> running.get(15, TimeUnit.SECONDS));
            SshException lost = assertInstanceOf(SshException.class, e.getCause());
            System.out.printf("ssh server stopped mid-command: %s %s after %d ms: %s%n", lost.getClass().getSimpleName(),
                    lost.reason(), (System.nanoTime() - t0) / 1_000_000, lost.getMessage());
            assertEquals(PolarException.Reason.CONNECTION_LOST, lost.reason());
            assertTrue(lost.getMessage().startsWith("127.0.0.1:" + port), lost.getMessage());
            assertEquals("", awaitNoProcess(marker), "no survivor of the cut command");

            // while it is down: a clear CONNECT error, not a hang
            SshException down = assertThrows(SshException.class, () -> ssh.run(Command.of("true")));
            assertEquals(PolarException.Reason.HOST_UNREACHABLE, down.reason(), down.getMessage());

            try (ShellSshServer again = new ShellSshServer(home, server.hostKey, server.clientKey, port)) {
                CommandResult retry = ssh.run(Command.of("sh", "-c", "echo done", marker));
                assertEquals("done\n", retry.stdout());
            }
        }
    }

    @Test
    void hangingLocalCommandTimesOutAndLeavesNoProcess() throws Exception {
        String marker = "polar-hang-" + System.nanoTime();
        // a shell with a background child and a foreground child: both must die
        Command hang = Command.of("sh", "-c", "sleep 300 & sleep 300; wait", marker).withTimeout(Duration.ofSeconds(1));
        try (CommandExecutor local = Executors.local()) {
            long t0 = System.nanoTime();
            CommandTimeoutException e = assertThrows(CommandTimeoutException.class, () -> local.execute(hang));
            long took = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("hanging local command: %s after %d ms%n", e.getClass().getSimpleName(), took);
            assertEquals(Duration.ofSeconds(1), e.timeout());
            assertTrue(took < 6000, "took " + took + " ms");
        }
        assertEquals("", awaitNoProcess(marker), "no survivor");
        assertEquals("", awaitNoProcess("sleep 300"), "no orphaned child");
    }

    @Test
    void hangingCommandOverSshTimesOutAndLeavesNoProcess() throws Exception {
        Path home = Files.createDirectories(dir.resolve("home2"));
        try (ShellSshServer server = new ShellSshServer(home)) {
            Path knownHosts = dir.resolve("known_hosts2");
            Files.writeString(knownHosts, server.knownHostsLine(server.hostKey));
            SshTarget target = SshTarget.builder().host("127.0.0.1").port(server.port()).user(ShellSshServer.USER)
                    .keyPair(server.clientKey).knownHostsFile(knownHosts).build();
            String marker = "polar-ssh-hang-" + System.nanoTime();
            try (CommandExecutor ssh = Executors.ssh(target)) {
                CommandTimeoutException e = assertThrows(CommandTimeoutException.class, () -> ssh.execute(
                        Command.of("sh", "-c", "exec sleep 301", marker).withTimeout(Duration.ofSeconds(1))));
                System.out.println("hanging ssh command: " + e.getMessage());
                assertEquals("", awaitNoProcess(marker), "no survivor");
                assertEquals("ok\n", ssh.run(Command.of("echo", "ok")).stdout(), "the session is still usable");
            }
        }
    }

    private static String awaitNoProcess(String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String left;
        do {
            left = Executors.local().execute(Command.of("pgrep", "-af", "--", text).withTimeout(Duration.ofSeconds(10)))
                    .stdout().strip();
            if (left.isEmpty()) {
                return left;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        return left;
    }
}
