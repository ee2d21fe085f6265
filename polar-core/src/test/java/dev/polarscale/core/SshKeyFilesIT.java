package dev.polarscale.core;

import dev.polarscale.core.KeyVariants.Variant;
import dev.polarscale.core.internal.ssh.PrivateKeyFiles;
import dev.polarscale.core.internal.ssh.PrivateKeyFiles.KeyFileException;
import dev.polarscale.core.rig.SshKeygen;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Private key files as the real {@code ssh-keygen} writes them, loaded the way
 * {@link Executors#ssh} loads them: every type and format, right and wrong passphrases, and the
 * files that are not usable, each with a message naming the file (and never the passphrase).
 * Logging in with each of them to a real OpenSSH sshd is {@code SshOpenSshIT}.
 */
class SshKeyFilesIT {
    @TempDir
    static Path dir;
    private static List<Variant> variants;

    @BeforeAll
    static void generate() {
        assumeTrue(SshKeygen.unavailableReason().isEmpty(), () -> SshKeygen.unavailableReason().get());
        long t0 = System.nanoTime();
        variants = KeyVariants.generateAll(dir);
        System.out.printf("generated %d key files in %d ms%n", variants.size(), (System.nanoTime() - t0) / 1_000_000);
    }

    static Stream<Variant> variants() {
        return variants.stream();
    }

    static Stream<Variant> encrypted() {
        return variants.stream().filter(Variant::encrypted);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void loadsAsTheKeySshKeygenMade(Variant v) throws Exception {
        List<KeyPair> keys = PrivateKeyFiles.load(v.file(), v.passphrase());
        assertEquals(1, keys.size());
        assertEquals(v.type(), KeyUtils.getKeyType(keys.get(0)));
        assertTrue(KeyUtils.compareKeys(publicKeyBeside(v.file()), keys.get(0).getPublic()),
                v + ": the loaded key is not the one in " + v.file() + ".pub");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("encrypted")
    void wrongOrMissingPassphraseNamesTheFileAndNeverThePassphrase(Variant v) {
        String wrong = "Wr0ng-" + System.nanoTime();
        KeyFileException e = assertThrows(KeyFileException.class, () -> PrivateKeyFiles.load(v.file(), wrong));
        assertTrue(e.getMessage().startsWith("cannot decrypt private key file " + v.file() + " ("), e.getMessage());
        assertTrue(e.getMessage().contains("wrong passphrase"), e.getMessage());
        assertNoSecret(e, wrong);

        KeyFileException none = assertThrows(KeyFileException.class, () -> PrivateKeyFiles.load(v.file(), null));
        assertTrue(none.getMessage().contains(v.file() + " (") && none.getMessage().contains("needs its passphrase"),
                none.getMessage());
    }

    @Test
    void aPassphraseForAnUnencryptedFileIsIgnored() throws Exception {
        Variant plain = variants.get(0);
        assertEquals("ssh-ed25519", KeyUtils.getKeyType(PrivateKeyFiles.load(plain.file(), "not needed").get(0)));
    }

    @Test
    void theExecutorReportsAKeyFileProblemAsAuthFailedNamingTheFile() {
        Variant v = variants.stream().filter(x -> x.name().equals("ed25519_encrypted")).findFirst().orElseThrow();
        String wrong = "Wr0ng-" + System.nanoTime();
        int port = TestDirs.freePort();
        SshTarget t = SshTarget.builder().host("127.0.0.1").port(port).user("polar")
                .privateKeyFile(v.file(), wrong).knownHostsFile(dir.resolve("known_hosts")).build();
        try (CommandExecutor ssh = Executors.ssh(t)) {
            SshException e = assertThrows(SshException.class, () -> ssh.run(Command.of("true")));
            assertEquals(PolarException.Reason.AUTH_FAILED, e.reason());
            assertEquals("127.0.0.1:" + port + " - cannot decrypt private key file " + v.file()
                    + " (OpenSSH format, ssh-ed25519, encrypted): wrong passphrase, or the file is damaged"
                    + " (StreamCorruptedException)", e.getMessage());
            assertNoSecret(e, wrong);
        }
    }

    @Test
    void dsaIsRefusedWithItsType() {
        Path dsa = SshKeygen.generate(dir, "dsa", "", "-t", "dsa");
        KeyFileException e = assertThrows(KeyFileException.class, () -> PrivateKeyFiles.load(dsa, null));
        assertEquals("private key file " + dsa + " (OpenSSH format) holds a key of type 'ssh-dss', which is not"
                + " supported: DSA keys are refused by OpenSSH since 7.0 (and removed in 9.8). Supported types:"
                + " ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (e.g. ssh-keygen -t ed25519)", e.getMessage());
    }

    @Test
    void ed448IsRefusedWithItsType() {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "needs /usr/bin/openssl to make an Ed448 key");
        Path ed448 = dir.resolve("ed448");
        Executors.local().run(Command.of("/usr/bin/openssl", "genpkey", "-algorithm", "ed448", "-out", ed448.toString())
                .withTimeout(Duration.ofSeconds(30)));
        KeyFileException e = assertThrows(KeyFileException.class, () -> PrivateKeyFiles.load(ed448, null));
        assertTrue(e.getMessage().startsWith("private key file " + ed448 + " (PKCS#8 format) holds a key of type"
                + " 'Ed448', which is not supported"), e.getMessage());
    }

    @Test
    void aPublicKeyFileIsNamedAsSuch() {
        Path pub = dir.resolve("ed25519.pub");
        KeyFileException e = assertThrows(KeyFileException.class, () -> PrivateKeyFiles.load(pub, null));
        assertEquals("private key file " + pub + " holds a public key (ssh-ed25519, as in a .pub or authorized_keys"
                + " file), not a private key: name the file without .pub", e.getMessage());
    }

    private static PublicKey publicKeyBeside(Path privateKey) throws Exception {
        return AuthorizedKeyEntry.parseAuthorizedKeyEntry(SshKeygen.publicKeyLine(privateKey))
                .resolvePublicKey(null, PublicKeyEntryResolver.FAILING);
    }

    private static void assertNoSecret(Throwable e, String... secrets) {
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        for (String s : secrets) {
            assertFalse(trace.toString().contains(s), "secret leaked into the exception:\n" + trace);
        }
        assertFalse(trace.toString().contains(KeyVariants.PASSPHRASE), "passphrase leaked:\n" + trace);
    }
}
