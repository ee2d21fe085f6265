package dev.polarscale.core;

import dev.polarscale.core.rig.SshKeygen;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The private key files people have, made by the real {@code ssh-keygen} (and one by
 * {@code openssl genpkey}): every key type in every format it writes, with and without a
 * passphrase.
 */
final class KeyVariants {
    /** A passphrase a shell would mangle if it were ever passed through one. */
    static final String PASSPHRASE = "pass 'phrase' $HOME `id` \\ \"quoted\"";

    /**
     * One generated key.
     *
     * @param name       file name, also the test's display name
     * @param type       the SSH key type it must load as
     * @param passphrase {@code null} for none
     */
    record Variant(String name, String type, String passphrase, Path file) {
        boolean encrypted() {
            return passphrase != null;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private KeyVariants() {
    }

    /** Generates every variant into {@code dir} (about a second, most of it RSA). */
    static List<Variant> generateAll(Path dir) {
        List<Variant> v = new ArrayList<>();
        v.add(gen(dir, "ed25519", "ssh-ed25519", null, "-t", "ed25519"));                // the default since OpenSSH 9.5
        v.add(gen(dir, "ed25519_encrypted", "ssh-ed25519", PASSPHRASE, "-t", "ed25519"));
        v.add(gen(dir, "ecdsa_p256", "ecdsa-sha2-nistp256", null, "-t", "ecdsa", "-b", "256"));
        v.add(gen(dir, "ecdsa_p384", "ecdsa-sha2-nistp384", null, "-t", "ecdsa", "-b", "384"));
        v.add(gen(dir, "ecdsa_p521_encrypted", "ecdsa-sha2-nistp521", PASSPHRASE, "-t", "ecdsa", "-b", "521"));
        v.add(gen(dir, "ecdsa_pem", "ecdsa-sha2-nistp256", null, "-t", "ecdsa", "-m", "PEM"));
        v.add(gen(dir, "ecdsa_pem_encrypted", "ecdsa-sha2-nistp384", PASSPHRASE, "-t", "ecdsa", "-b", "384", "-m", "PEM"));
        v.add(gen(dir, "ecdsa_pkcs8_encrypted", "ecdsa-sha2-nistp256", PASSPHRASE, "-t", "ecdsa", "-m", "PKCS8"));
        v.add(gen(dir, "rsa", "ssh-rsa", null));                                         // the default before 9.5: 3072 bits
        v.add(gen(dir, "rsa_encrypted", "ssh-rsa", PASSPHRASE, "-t", "rsa", "-b", "2048"));
        v.add(gen(dir, "rsa_pem", "ssh-rsa", null, "-t", "rsa", "-b", "2048", "-m", "PEM"));
        v.add(gen(dir, "rsa_pem_encrypted", "ssh-rsa", PASSPHRASE, "-t", "rsa", "-b", "2048", "-m", "PEM"));
        v.add(gen(dir, "rsa_pkcs8", "ssh-rsa", null, "-t", "rsa", "-b", "2048", "-m", "PKCS8"));
        v.add(gen(dir, "rsa_pkcs8_encrypted", "ssh-rsa", PASSPHRASE, "-t", "rsa", "-b", "2048", "-m", "PKCS8"));
        if (Files.isExecutable(Path.of("/usr/bin/openssl"))) {
            // An Ed25519 key as OpenSSL writes it (PKCS#8 PEM), which OpenSSH 9.2 itself cannot read: its
            // .pub line is built from the last 32 bytes of the SubjectPublicKeyInfo openssl prints.
            Path key = dir.resolve("ed25519_openssl_pkcs8");
            Executors.local().run(Command.of("/usr/bin/openssl", "genpkey", "-algorithm", "ed25519", "-out",
                    key.toString()).withTimeout(Duration.ofSeconds(30)));
            String spki = Executors.local().run(Command.of("/usr/bin/openssl", "pkey", "-in", key.toString(), "-pubout")
                    .withTimeout(Duration.ofSeconds(30))).stdout();
            byte[] der = Base64.getMimeDecoder().decode(spki.replaceAll("-----[A-Z ]+-----", ""));
            ByteBuffer blob = ByteBuffer.allocate(4 + 11 + 4 + 32);
            blob.putInt(11).put("ssh-ed25519".getBytes(StandardCharsets.US_ASCII)).putInt(32)
                    .put(der, der.length - 32, 32);
            write(dir.resolve("ed25519_openssl_pkcs8.pub"),
                    "ssh-ed25519 " + Base64.getEncoder().encodeToString(blob.array()) + " ed25519_openssl_pkcs8\n");
            v.add(new Variant("ed25519_openssl_pkcs8", "ssh-ed25519", null, key));
        }
        return List.copyOf(v);
    }

    private static Variant gen(Path dir, String name, String type, String passphrase, String... options) {
        Path file = SshKeygen.generate(dir, name, passphrase == null ? "" : passphrase, options);
        return new Variant(name, type, passphrase, file);
    }

    private static void write(Path file, String content) {
        try {
            Files.writeString(file, content);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
