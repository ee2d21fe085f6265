package dev.polarscale.core.internal.ssh;

import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.util.security.SecurityUtils;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads the key pairs of one private key file, the way {@code ssh -i} would, and says precisely
 * why when it cannot. MINA's {@code FileKeyPairProvider} logs a failure and returns no key, which
 * surfaces as "no key found" whatever the cause (an Ed25519 key without an EdDSA provider, a
 * wrong passphrase, a {@code .pub} file); here the file's header is read first, without the
 * passphrase, so the message can name the format, the key type and whether it is encrypted.
 *
 * <p>Formats: OpenSSH ({@code ssh-keygen}'s default), PEM ({@code ssh-keygen -m PEM}: RSA and
 * EC, with or without a passphrase) and PKCS#8 ({@code ssh-keygen -m PKCS8}, {@code openssl
 * genpkey}; encrypted ones need Bouncy Castle's bcpkix). Key types: Ed25519 (needs an EdDSA
 * provider: Bouncy Castle's bcprov), ECDSA P-256/384/521 and RSA. DSA and FIDO security keys are
 * refused with their type named. Messages never contain the passphrase.
 */
public final class PrivateKeyFiles {
    /** Key types that load and sign here. */
    public static final Set<String> SUPPORTED_TYPES = Set.of(KeyPairType.ED25519, KeyPairType.ECDSA_256,
            KeyPairType.ECDSA_384, KeyPairType.ECDSA_521, KeyPairType.RSA);

    private static final int MAX_FILE_BYTES = 1 << 20;
    private static final byte[] OPENSSH_MAGIC = "openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII);
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\R(.*?)-----END \\1-----", Pattern.DOTALL);
    private static final Pattern PUBLIC_KEY_LINE = Pattern.compile(
            "(?:[^\\s]+\\s+)?((?:ssh|ecdsa|sk)-[A-Za-z0-9@.-]+)\\s+AAAA[A-Za-z0-9+/=]+.*", Pattern.DOTALL);
    /** PKCS#8 AlgorithmIdentifier OIDs, for messages about keys MINA cannot use. */
    private static final Map<String, String> PKCS8_ALGORITHMS = Map.of(
            "1.2.840.113549.1.1.1", KeyPairType.RSA,
            "1.2.840.10045.2.1", "ecdsa",
            "1.3.101.112", KeyPairType.ED25519,
            "1.3.101.113", "Ed448",
            "1.2.840.10040.4.1", "ssh-dss",
            "1.3.101.110", "X25519 (a key-agreement key, not a signing key)",
            "1.3.101.111", "X448 (a key-agreement key, not a signing key)");

    private PrivateKeyFiles() {
    }

    /** Why a key file cannot be used; the message names the file and never the passphrase. */
    public static final class KeyFileException extends Exception {
        private static final long serialVersionUID = 1L;

        KeyFileException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** SSH key type names, as OpenSSH writes them. */
    static final class KeyPairType {
        static final String ED25519 = "ssh-ed25519";
        static final String ECDSA_256 = "ecdsa-sha2-nistp256";
        static final String ECDSA_384 = "ecdsa-sha2-nistp384";
        static final String ECDSA_521 = "ecdsa-sha2-nistp521";
        static final String RSA = "ssh-rsa";

        private KeyPairType() {
        }
    }

    /**
     * What a key file's header says, read without decrypting anything.
     *
     * @param format    {@code OpenSSH}, {@code PEM} or {@code PKCS#8}
     * @param keyType   the SSH key type where the header names it ({@code ecdsa} for a PEM EC key,
     *                  whose curve is inside the encrypted part)
     * @param encrypted whether a passphrase is needed
     */
    record Header(String format, Optional<String> keyType, boolean encrypted) {
        String describe() {
            return format + " format" + keyType.map(t -> ", " + t).orElse("") + (encrypted ? ", encrypted" : "");
        }
    }

    /**
     * The key pairs in {@code file}.
     *
     * @param passphrase the passphrase of an encrypted file, or {@code null}; ignored for a file
     *                   that is not encrypted
     * @return at least one key pair, each of a {@linkplain #SUPPORTED_TYPES supported type}
     * @throws KeyFileException the file is unreadable, not a private key, encrypted without a
     *                          passphrase, not decryptable with it, or of an unsupported type
     */
    public static List<KeyPair> load(Path file, String passphrase) throws KeyFileException {
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new KeyFileException("private key file " + file + " is larger than " + MAX_FILE_BYTES
                        + " bytes: not a key file", null);
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new KeyFileException("cannot read private key file " + file + ": " + e, e);
        }
        Header header = inspect(file, new String(bytes, StandardCharsets.ISO_8859_1));
        if (header.keyType().isPresent()) {
            requireSupported(file, header, header.keyType().get());
        }
        if (header.encrypted() && passphrase == null) {
            throw new KeyFileException("private key file " + file + " (" + header.describe()
                    + ") needs its passphrase: SshTarget.Builder.privateKeyFile(file, passphrase)", null);
        }
        FilePasswordProvider password = header.encrypted() ? FilePasswordProvider.of(passphrase)
                : FilePasswordProvider.EMPTY;
        List<KeyPair> keys = new ArrayList<>();
        try (InputStream in = new ByteArrayInputStream(bytes)) {
            Iterable<KeyPair> loaded = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(file.toString()),
                    in, password);
            if (loaded != null) {
                loaded.forEach(keys::add);
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            if (header.encrypted()) {
                throw new KeyFileException("cannot decrypt private key file " + file + " (" + header.describe()
                        + "): wrong passphrase, or the file is damaged (" + e.getClass().getSimpleName() + ")", e);
            }
            throw new KeyFileException("cannot read private key file " + file + " (" + header.describe() + "): "
                    + e.getMessage(), e);
        }
        if (keys.isEmpty()) {
            throw new KeyFileException("no key found in private key file " + file + " (" + header.describe() + ")",
                    null);
        }
        for (KeyPair k : keys) {
            String type = KeyUtils.getKeyType(k);
            requireSupported(file, header, type == null ? k.getPrivate().getAlgorithm() : type);
        }
        return List.copyOf(keys);
    }

    private static void requireSupported(Path file, Header header, String type) throws KeyFileException {
        if (SUPPORTED_TYPES.contains(type) || type.equals("ecdsa")) {
            return;
        }
        String why;
        if (type.equals("ssh-dss")) {
            why = "DSA keys are refused by OpenSSH since 7.0 (and removed in 9.8)";
        } else if (type.startsWith("sk-")) {
            why = "it is a FIDO security key, which signs only with its hardware token";
        } else {
            why = "this client cannot sign with it";
        }
        throw new KeyFileException("private key file " + file + " (" + header.format() + " format) holds a key of"
                + " type '" + type + "', which is not supported: " + why + ". Supported types: ssh-ed25519,"
                + " ecdsa-sha2-nistp256/384/521, ssh-rsa (e.g. ssh-keygen -t ed25519)", null);
    }

    /**
     * Reads the header of a key file's text.
     *
     * @throws KeyFileException the text holds no private key
     */
    static Header inspect(Path file, String text) throws KeyFileException {
        String trimmed = text.strip();
        if (trimmed.startsWith("PuTTY-User-Key-File-")) {
            throw new KeyFileException("private key file " + file + " is a PuTTY key file, which is not supported:"
                    + " convert it with 'puttygen " + file + " -O private-openssh -o NEWFILE'", null);
        }
        if (trimmed.startsWith("---- BEGIN SSH2 ")) {
            throw new KeyFileException("private key file " + file + " is in the SSH.COM (RFC 4716) format, which is"
                    + " not supported for private keys: convert it with 'ssh-keygen -i -f " + file + "'", null);
        }
        Matcher pem = PEM.matcher(text);
        if (!pem.find()) {
            Matcher pub = PUBLIC_KEY_LINE.matcher(trimmed);
            if (pub.matches()) {
                throw new KeyFileException("private key file " + file + " holds a public key (" + pub.group(1)
                        + ", as in a .pub or authorized_keys file), not a private key: name the file without .pub",
                        null);
            }
            throw new KeyFileException("private key file " + file + " is not a private key file: it has no OpenSSH"
                    + " or PEM private key block ('-----BEGIN ... PRIVATE KEY-----')", null);
        }
        String label = pem.group(1);
        String body = pem.group(2);
        switch (label) {
            case "OPENSSH PRIVATE KEY":
                return openSshHeader(file, body);
            case "RSA PRIVATE KEY":
                return new Header("PEM", Optional.of(KeyPairType.RSA), body.contains("Proc-Type: 4,ENCRYPTED"));
            case "EC PRIVATE KEY":
                return new Header("PEM", Optional.of("ecdsa"), body.contains("Proc-Type: 4,ENCRYPTED"));
            case "DSA PRIVATE KEY":
                return new Header("PEM", Optional.of("ssh-dss"), body.contains("Proc-Type: 4,ENCRYPTED"));
            case "PRIVATE KEY":
                return new Header("PKCS#8", pkcs8Type(body), false);
            case "ENCRYPTED PRIVATE KEY":
                return new Header("PKCS#8", Optional.empty(), true);
            default:
                throw new KeyFileException("private key file " + file + " holds a '" + label.toLowerCase(Locale.ROOT)
                        + "' block, which is not a supported private key (OpenSSH, PEM or PKCS#8)", null);
        }
    }

    /**
     * The OpenSSH format ({@code PROTOCOL.key}): magic, cipher name, KDF name, KDF options, the
     * number of keys, then each public key in the clear, whose first field is its type.
     */
    private static Header openSshHeader(Path file, String body) throws KeyFileException {
        try {
            ByteBuffer b = ByteBuffer.wrap(Base64.getMimeDecoder().decode(body));
            byte[] magic = new byte[OPENSSH_MAGIC.length];
            b.get(magic);
            if (!Arrays.equals(magic, OPENSSH_MAGIC)) {
                throw new KeyFileException("private key file " + file + " has an OpenSSH header but no"
                        + " 'openssh-key-v1' key in it: the file is damaged", null);
            }
            String cipher = string(b);
            string(b); // KDF name
            string(b); // KDF options
            int count = b.getInt();
            if (count < 1) {
                throw new KeyFileException("private key file " + file + " (OpenSSH format) holds no key", null);
            }
            ByteBuffer publicKey = ByteBuffer.wrap(bytes(b));
            String type = string(publicKey);
            return new Header("OpenSSH", Optional.of(type), !"none".equals(cipher));
        } catch (IllegalArgumentException | BufferUnderflowException e) {
            throw new KeyFileException("private key file " + file + " (OpenSSH format) is damaged: " + e, e);
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new IllegalArgumentException("field length " + n + " beyond the data");
        }
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    private static String string(ByteBuffer b) {
        return new String(bytes(b), StandardCharsets.UTF_8);
    }

    /**
     * The key type of an unencrypted PKCS#8 key, from its AlgorithmIdentifier:
     * {@code SEQUENCE { INTEGER version, SEQUENCE { OID algorithm, ... }, ... }}.
     */
    private static Optional<String> pkcs8Type(String body) {
        try {
            ByteBuffer b = ByteBuffer.wrap(Base64.getMimeDecoder().decode(body));
            enter(b, 0x30);
            skip(b, 0x02);
            enter(b, 0x30);
            int len = length(b, 0x06);
            byte[] oid = new byte[len];
            b.get(oid);
            String dotted = oid(oid);
            return Optional.of(PKCS8_ALGORITHMS.getOrDefault(dotted, "OID " + dotted));
        } catch (RuntimeException e) {
            return Optional.empty(); // MINA's parser reports what is wrong with it
        }
    }

    private static void enter(ByteBuffer b, int tag) {
        length(b, tag);
    }

    private static void skip(ByteBuffer b, int tag) {
        int n = length(b, tag);
        b.position(b.position() + n);
    }

    private static int length(ByteBuffer b, int tag) {
        if ((b.get() & 0xff) != tag) {
            throw new IllegalArgumentException("unexpected DER tag");
        }
        int first = b.get() & 0xff;
        if (first < 0x80) {
            return first;
        }
        int n = 0;
        for (int i = 0; i < (first & 0x7f); i++) {
            n = (n << 8) | (b.get() & 0xff);
        }
        return n;
    }

    private static String oid(byte[] der) {
        int first = der[0] & 0xff;
        int arc = Math.min(2, first / 40);
        StringBuilder sb = new StringBuilder().append(arc).append('.').append(first - 40 * arc);
        long v = 0;
        for (int i = 1; i < der.length; i++) {
            v = (v << 7) | (der[i] & 0x7f);
            if ((der[i] & 0x80) == 0) {
                sb.append('.').append(v);
                v = 0;
            }
        }
        return sb.toString();
    }
}
