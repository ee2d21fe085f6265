package dev.polarscale.core;

import dev.polarscale.core.KeyVariants.Variant;
import dev.polarscale.core.rig.HostRig;
import dev.polarscale.core.rig.RigHost;
import dev.polarscale.core.rig.SshKeygen;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code Executors.ssh} against a real OpenSSH sshd (a {@link HostRig} host): a login with every
 * key file {@code ssh-keygen} makes (Ed25519, ECDSA, RSA; OpenSSH, PEM, PKCS#8; with and without
 * a passphrase), strict host keys, a refused key, a non-root login, and a timeout that kills the
 * remote command with its children.
 */
class SshOpenSshIT {
    @TempDir
    static Path dir;
    private static HostRig rig;
    private static RigHost host;
    private static List<Variant> variants;

    @BeforeAll
    static void start() {
        rig = HostRig.start(1);
        host = rig.host(0);
        variants = KeyVariants.generateAll(dir);
        for (Variant v : variants) {
            rig.authorize(SshKeygen.publicKeyLine(v.file()));
        }
    }

    @AfterAll
    static void stop() {
        if (rig != null) {
            rig.close();
        }
    }

    static Stream<Variant> variants() {
        return variants.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void logsInWithEveryKeyFile(Variant v) {
        SshTarget.Builder b = host.sshTargetBuilder();
        SshTarget t = (v.encrypted() ? b.privateKeyFile(v.file(), v.passphrase()) : b.privateKeyFile(v.file())).build();
        try (CommandExecutor ssh = Executors.ssh(t)) {
            assertEquals("root " + host.name() + "\n",
                    ssh.run(Command.of("sh", "-c", "echo \"$(id -un) $(hostname)\"")).stdout());
        }
    }

    @Test
    void aKeyTheServerDoesNotKnowIsRefused() {
        Path stranger = SshKeygen.generate(dir, "stranger", "", "-t", "ed25519");
        try (CommandExecutor ssh = Executors.ssh(host.sshTargetBuilder().privateKeyFile(stranger).build())) {
            SshException e = assertThrows(SshException.class, () -> ssh.run(Command.of("true")));
            assertEquals(PolarException.Reason.AUTH_FAILED, e.reason(), e.getMessage());
            assertTrue(e.getMessage().startsWith(host.address() + ":22 - authentication as 'root' failed (offered"
                    + " [publickey(" + stranger + ")])"), e.getMessage());
        }
    }

    @Test
    void anUnknownHostKeyIsRejectedAndKnownHostsIsNotWritten() throws Exception {
        Path empty = Files.writeString(dir.resolve("known_hosts_empty"), "");
        try (CommandExecutor ssh = Executors.ssh(host.sshTargetBuilder().knownHostsFile(empty).build())) {
            SshException e = assertThrows(SshException.class, () -> ssh.run(Command.of("true")));
            assertEquals(PolarException.Reason.HOST_KEY_REJECTED, e.reason(), e.getMessage());
            assertTrue(e.getMessage().contains("the server's ED25519 key SHA256:")
                    || e.getMessage().contains("ssh-ed25519"), e.getMessage());
        }
        assertEquals("", Files.readString(empty));
    }

    @Test
    void anUnprivilegedUserLogsInWithTheSameKey() {
        try (CommandExecutor ssh = Executors.ssh(host.sshTargetBuilder().user("postgres").build())) {
            assertEquals("postgres\n", ssh.run(Command.of("id", "-un")).stdout());
        }
    }

    /**
     * A timeout kills the remote command and its children, for a root login (OpenSSH refuses the
     * signal request there: "session signalling requires privilege separation"; the executor kills
     * the process group through a second channel) and for an unprivileged one (killpg by sshd).
     */
    @ParameterizedTest(name = "login as {0}")
    @ValueSource(strings = {"root", "postgres"})
    void aTimeoutKillsTheRemoteCommandAndItsChildren(String user) {
        String marker = "rig-timeout-" + System.nanoTime();
        try (CommandExecutor ssh = Executors.ssh(host.sshTargetBuilder().user(user).build())) {
            long t0 = System.nanoTime();
            assertThrows(CommandTimeoutException.class, () -> ssh.execute(
                    Command.of("sh", "-c", "sleep 300 & sleep 300; wait", marker).withTimeout(Duration.ofSeconds(1))));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 6000, "took " + ms + " ms");
            String left = "";
            for (int i = 0; i < 50; i++) {
                left = host.exec("pgrep", "-a", "sleep").stdout().strip();
                if (left.isEmpty()) {
                    break;
                }
                sleepMillis(100);
            }
            assertEquals("", left, "processes left on the host after the timeout");
            assertFalse(host.exec("pgrep", "-f", marker).succeeded());
            System.out.printf("timeout as %s: exception after %d ms, no process left%n", user, ms);
            assertEquals("ok\n", ssh.run(Command.of("echo", "ok")).stdout(), "the session is still usable");
        }
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
