package dev.polarscale.core.internal.ssh;

import dev.polarscale.core.internal.ssh.PrivateKeyFiles.KeyFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The header reading of {@link PrivateKeyFiles} on hand-made file contents (no processes). */
class PrivateKeyFilesTest {
    private static final Path FILE = Path.of("/keys/id_test");

    @Test
    void openSshHeaderGivesTypeAndEncryption() throws Exception {
        PrivateKeyFiles.Header plain = PrivateKeyFiles.inspect(FILE, openSsh("none", "ssh-ed25519"));
        assertEquals(new PrivateKeyFiles.Header("OpenSSH", Optional.of("ssh-ed25519"), false), plain);
        PrivateKeyFiles.Header enc = PrivateKeyFiles.inspect(FILE, openSsh("aes256-ctr", "ecdsa-sha2-nistp384"));
        assertEquals(new PrivateKeyFiles.Header("OpenSSH", Optional.of("ecdsa-sha2-nistp384"), true), enc);
        assertEquals("OpenSSH format, ecdsa-sha2-nistp384, encrypted", enc.describe());
    }

    @Test
    void pemHeaders() throws Exception {
        assertEquals(new PrivateKeyFiles.Header("PEM", Optional.of("ssh-rsa"), true), PrivateKeyFiles.inspect(FILE,
                "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n"
                        + "-----END RSA PRIVATE KEY-----\n"));
        assertEquals(new PrivateKeyFiles.Header("PEM", Optional.of("ecdsa"), false), PrivateKeyFiles.inspect(FILE,
                "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"));
        assertEquals(new PrivateKeyFiles.Header("PKCS#8", Optional.empty(), true), PrivateKeyFiles.inspect(FILE,
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"));
        // PKCS#8 Ed25519 as openssl writes it: the type comes from the algorithm OID 1.3.101.112
        assertEquals(new PrivateKeyFiles.Header("PKCS#8", Optional.of("ssh-ed25519"), false), PrivateKeyFiles.inspect(FILE,
                "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHTjkPzPR5gkWtC3Ck0hd2C7TtZFqbwYrT0xzWQnWgOy\n"
                        + "-----END PRIVATE KEY-----\n"));
    }

    @Test
    void aSecurityKeyIsRefusedWithItsType(@TempDir Path dir) throws Exception {
        Path sk = Files.writeString(dir.resolve("id_ed25519_sk"), openSsh("none", "sk-ssh-ed25519@openssh.com"));
        KeyFileException e = assertThrows(KeyFileException.class, () -> PrivateKeyFiles.load(sk, null));
        assertTrue(e.getMessage().startsWith("private key file " + sk + " (OpenSSH format) holds a key of type"
                + " 'sk-ssh-ed25519@openssh.com', which is not supported: it is a FIDO security key"), e.getMessage());
    }

    @Test
    void anUnknownTypeIsNamed(@TempDir Path dir) throws Exception {
        Path x = Files.writeString(dir.resolve("id_xmss"), openSsh("none", "ssh-xmss@openssh.com"));
        KeyFileException e = assertThrows(KeyFileException.class, () -> PrivateKeyFiles.load(x, null));
        assertTrue(e.getMessage().contains("holds a key of type 'ssh-xmss@openssh.com', which is not supported: this"
                + " client cannot sign with it"), e.getMessage());
    }

    @Test
    void filesThatAreNoPrivateKeySayWhatTheyAre() {
        assertMessage("private key file /keys/id_test is a PuTTY key file, which is not supported: convert it with"
                + " 'puttygen /keys/id_test -O private-openssh -o NEWFILE'", "PuTTY-User-Key-File-3: ssh-ed25519\n");
        assertMessage("private key file /keys/id_test is in the SSH.COM (RFC 4716) format, which is not supported for"
                + " private keys: convert it with 'ssh-keygen -i -f /keys/id_test'",
                "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nAAAA\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n");
        assertMessage("private key file /keys/id_test holds a public key (ecdsa-sha2-nistp256, as in a .pub or"
                + " authorized_keys file), not a private key: name the file without .pub",
                "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= me@host\n");
        assertMessage("private key file /keys/id_test holds a public key (ssh-ed25519, as in a .pub or authorized_keys"
                + " file), not a private key: name the file without .pub",
                "from=\"10.0.0.1\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 me@host\n");
        assertMessage("private key file /keys/id_test is not a private key file: it has no OpenSSH or PEM private key"
                + " block ('-----BEGIN ... PRIVATE KEY-----')", "hello\n");
        assertMessage("private key file /keys/id_test holds a 'certificate' block, which is not a supported private"
                + " key (OpenSSH, PEM or PKCS#8)", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        assertMessage("private key file /keys/id_test has an OpenSSH header but no 'openssh-key-v1' key in it: the file"
                + " is damaged", "-----BEGIN OPENSSH PRIVATE KEY-----\n"
                + Base64.getEncoder().encodeToString("not-an-openssh-key-at-all".getBytes(StandardCharsets.US_ASCII))
                + "\n-----END OPENSSH PRIVATE KEY-----\n");
    }

    private static void assertMessage(String expected, String content) {
        KeyFileException e = assertThrows(KeyFileException.class, () -> PrivateKeyFiles.inspect(FILE, content));
        assertEquals(expected, e.getMessage());
    }

    /** The clear-text part of an OpenSSH key file (PROTOCOL.key), followed by an empty private part. */
    private static String openSsh(String cipher, String type) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.write("openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII));
        string(out, cipher.getBytes(StandardCharsets.US_ASCII));
        string(out, ("none".equals(cipher) ? "none" : "bcrypt").getBytes(StandardCharsets.US_ASCII));
        string(out, new byte[0]);
        out.writeInt(1);
        ByteArrayOutputStream pub = new ByteArrayOutputStream();
        DataOutputStream p = new DataOutputStream(pub);
        string(p, type.getBytes(StandardCharsets.US_ASCII));
        string(p, new byte[32]);
        string(out, pub.toByteArray());
        string(out, new byte[16]);
        return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(bytes.toByteArray())
                + "\n-----END OPENSSH PRIVATE KEY-----\n";
    }

    private static void string(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }
}
