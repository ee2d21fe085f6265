package dev.polarscale.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SshTargetTest {

    @Test
    void defaults() {
        SshTarget t = SshTarget.builder().host("db1.example.com").user("polar").password("pw").build();
        assertEquals(22, t.port());
        assertEquals("db1.example.com:22", t.hostAndPort());
        assertEquals(Path.of(System.getProperty("user.home"), ".ssh", "known_hosts"), t.knownHostsFile());
        assertFalse(t.acceptsAnyHostKeyInsecurely());
        assertEquals(SshTarget.DEFAULT_CONNECT_TIMEOUT, t.connectTimeout());
        assertEquals(SshTarget.DEFAULT_AUTH_TIMEOUT, t.authTimeout());
    }

    @Test
    void ipv6LiteralIsBracketedInMessages() {
        SshTarget t = SshTarget.builder().host("::1").port(2222).user("polar").password("pw").build();
        assertEquals("[::1]:2222", t.hostAndPort());
    }

    @Test
    void eachCallRejectsABadValueAtOnce() {
        SshTarget.Builder b = SshTarget.builder();
        assertThrows(IllegalArgumentException.class, () -> b.host(""));
        assertThrows(IllegalArgumentException.class, () -> b.host("-oProxyCommand=evil"));
        assertThrows(IllegalArgumentException.class, () -> b.host("db1 db2"));
        assertThrows(IllegalArgumentException.class, () -> b.port(0));
        assertThrows(IllegalArgumentException.class, () -> b.port(65536));
        assertThrows(IllegalArgumentException.class, () -> b.user("-l"));
        assertThrows(IllegalArgumentException.class, () -> b.user("a b"));
        assertThrows(IllegalArgumentException.class, () -> b.password(""));
        assertThrows(NullPointerException.class, () -> b.privateKeyFile(null));
        assertThrows(IllegalArgumentException.class, () -> b.connectTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> b.authTimeout(Duration.ofSeconds(-1)));
        assertThrows(NullPointerException.class, () -> b.keyPair(null));
    }

    @Test
    void buildNeedsHostUserAndACredential() {
        assertThrows(IllegalStateException.class, () -> SshTarget.builder().user("u").password("p").build());
        assertThrows(IllegalStateException.class, () -> SshTarget.builder().host("h").password("p").build());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> SshTarget.builder().host("h").user("u").build());
        assertTrue(e.getMessage().contains("u@h"), e.getMessage());
    }

    @Test
    void secretsNeverShowInToString(@TempDir Path dir) throws Exception {
        Path key = Files.writeString(dir.resolve("id_ecdsa"), "not parsed here");
        SshTarget t = SshTarget.builder().host("db1").user("polar").password("hunter2-secret")
                .privateKeyFile(key, "passphrase-secret").build();
        String s = t.toString();
        assertFalse(s.contains("hunter2-secret"), s);
        assertFalse(s.contains("passphrase-secret"), s);
        assertTrue(s.contains("polar@db1:22"), s);
        assertTrue(s.contains("password"), s);
        assertTrue(t.hasPassword());
    }

    @Test
    void insecureModeIsVisible() {
        SshTarget t = SshTarget.builder().host("h").user("u").password("p").acceptAnyHostKeyInsecurely().build();
        assertTrue(t.acceptsAnyHostKeyInsecurely());
        assertTrue(t.toString().contains("host key checking DISABLED"), t.toString());
    }

    @Test
    void buildingATargetTouchesNoFile() throws Exception {
        // a value is a value: the key file is read on the first connect, which names it if it is missing
        SshTarget t = SshTarget.builder().host("db1").user("polar").privateKeyFile(Path.of("/no/such/key"))
                .knownHostsFile(Path.of("/no/such/known_hosts")).build();
        assertEquals(Path.of("/no/such/key"), t.privateKeyFile().orElseThrow());
        dev.polarscale.core.internal.ssh.PrivateKeyFiles.KeyFileException e = assertThrows(
                dev.polarscale.core.internal.ssh.PrivateKeyFiles.KeyFileException.class,
                () -> dev.polarscale.core.internal.ssh.PrivateKeyFiles.load(Path.of("/no/such/key"), null));
        assertTrue(e.getMessage().contains("/no/such/key"), e.getMessage());
    }
}
