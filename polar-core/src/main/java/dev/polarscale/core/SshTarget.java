package dev.polarscale.core;

import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where and how to log in over SSH: host, port, user, credentials and how to trust the server.
 * Immutable; built with {@link #builder()}, whose every call rejects a bad value at once.
 *
 * <pre>{@code
 * SshTarget db1 = SshTarget.builder()
 *         .host("db1.example.com")
 *         .user("polar")
 *         .privateKeyFile(Path.of(System.getProperty("user.home"), ".ssh", "id_ed25519"))
 *         .connectTimeout(Duration.ofSeconds(5))
 *         .build();
 * try (CommandExecutor remote = Executors.ssh(db1)) {
 *     remote.run(Command.of("pg_ctl", "-D", "/var/lib/polar/replica1", "status").asUser("postgres"));
 * }
 * }</pre>
 *
 * <p><b>Host keys.</b> The server's key must be listed in the known_hosts file
 * ({@code ~/.ssh/known_hosts} unless {@link Builder#knownHostsFile(Path)} says otherwise;
 * entries for a port other than 22 are written {@code [host]:port}, as {@code ssh-keyscan -p}
 * prints them). An unknown or changed key fails the connection with
 * {@link SshException.Reason#HOST_KEY_REJECTED}; the file is never modified.
 * {@link Builder#acceptAnyHostKeyInsecurely()} turns checking off for throw-away test hosts.
 *
 * <p><b>Key files.</b> What {@code ssh-keygen} writes: Ed25519 (its default), ECDSA (P-256,
 * P-384, P-521) and RSA keys, in the OpenSSH format (the default), PEM ({@code -m PEM}) or PKCS#8
 * ({@code -m PKCS8}, also {@code openssl genpkey}), each with or without a passphrase. The file is
 * read when the executor first connects; a wrong or missing passphrase, a {@code .pub} file or an
 * unsupported key type (DSA, FIDO security keys) fails that connection with
 * {@link SshException.Reason#AUTH_FAILED} and a message naming the file and, for a type, the type.
 *
 * <p><b>Secrets.</b> The password and the key passphrase are never logged and never appear in
 * {@link #toString()} or in exception messages; this class has no public getter for them.
 */
public final class SshTarget {

    /** The SSH port used unless {@link Builder#port(int)} says otherwise. */
    public static final int DEFAULT_PORT = 22;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_AUTH_TIMEOUT = Duration.ofSeconds(30);

    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9:][A-Za-z0-9._:%-]{0,252}");
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,31}");

    private final String host;
    private final int port;
    private final String user;
    private final Path privateKeyFile;
    private final String keyPassphrase;
    private final KeyPair keyPair;
    private final String password;
    private final Path knownHostsFile;
    private final boolean acceptAnyHostKey;
    private final Duration connectTimeout;
    private final Duration authTimeout;

    private SshTarget(Builder b) {
        this.host = b.host;
        this.port = b.port;
        this.user = b.user;
        this.privateKeyFile = b.privateKeyFile;
        this.keyPassphrase = b.keyPassphrase;
        this.keyPair = b.keyPair;
        this.password = b.password;
        this.knownHostsFile = b.knownHostsFile != null ? b.knownHostsFile
                : Path.of(System.getProperty("user.home"), ".ssh", "known_hosts");
        this.acceptAnyHostKey = b.acceptAnyHostKey;
        this.connectTimeout = b.connectTimeout;
        this.authTimeout = b.authTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** {@code host:port} ({@code [host]:port} for an IPv6 literal), as used in messages. */
    public String hostAndPort() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** The login user; commands run as this user unless they ask for another one. */
    public String user() {
        return user;
    }

    public Optional<Path> privateKeyFile() {
        return Optional.ofNullable(privateKeyFile);
    }

    public Optional<KeyPair> keyPair() {
        return Optional.ofNullable(keyPair);
    }

    /** Whether password authentication is configured (the password itself is not exposed). */
    public boolean hasPassword() {
        return password != null;
    }

    public Path knownHostsFile() {
        return knownHostsFile;
    }

    /** {@code true} only after {@link Builder#acceptAnyHostKeyInsecurely()}. */
    public boolean acceptsAnyHostKeyInsecurely() {
        return acceptAnyHostKey;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public Duration authTimeout() {
        return authTimeout;
    }

    // Package-private on purpose: only Executors hands these to the SSH implementation.
    String password() {
        return password;
    }

    String keyPassphrase() {
        return keyPassphrase;
    }

    /** The authentication methods configured, for messages; never a secret. */
    public List<String> authMethods() {
        List<String> m = new ArrayList<>();
        if (keyPair != null) {
            m.add("publickey(key pair)");
        }
        if (privateKeyFile != null) {
            m.add("publickey(" + privateKeyFile + ")");
        }
        if (password != null) {
            m.add("password");
        }
        return List.copyOf(m);
    }

    @Override
    public String toString() {
        return "SshTarget[" + user + "@" + hostAndPort() + ", auth=" + authMethods()
                + (acceptAnyHostKey ? ", host key checking DISABLED" : ", knownHosts=" + knownHostsFile)
                + ", connectTimeout=" + connectTimeout + ", authTimeout=" + authTimeout + "]";
    }

    /** Builds an {@link SshTarget}; each call validates its argument at once. */
    public static final class Builder {
        private String host;
        private int port = DEFAULT_PORT;
        private String user;
        private Path privateKeyFile;
        private String keyPassphrase;
        private KeyPair keyPair;
        private String password;
        private Path knownHostsFile;
        private boolean acceptAnyHostKey;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration authTimeout = DEFAULT_AUTH_TIMEOUT;

        private Builder() {
        }

        /** A DNS name, IPv4 address or IPv6 literal (without brackets). */
        public Builder host(String host) {
            Objects.requireNonNull(host, "host");
            if (!HOST.matcher(host).matches()) {
                throw new IllegalArgumentException("invalid SSH host: '" + host + "'");
            }
            this.host = host;
            return this;
        }

        public Builder port(int port) {
            this.port = Port.of(port).value();
            return this;
        }

        public Builder port(Port port) {
            this.port = Objects.requireNonNull(port, "port").value();
            return this;
        }

        public Builder user(String user) {
            Objects.requireNonNull(user, "user");
            if (!USER.matcher(user).matches()) {
                throw new IllegalArgumentException("invalid SSH user name: '" + user + "'");
            }
            this.user = user;
            return this;
        }

        /**
         * A private key file without a passphrase (see "Key files" above), read and parsed on the
         * first connect (a file that is missing or unreadable then fails with
         * {@link PolarException.Reason#AUTH_FAILED}, naming it): building a target touches no file.
         */
        public Builder privateKeyFile(Path file) {
            Objects.requireNonNull(file, "file");
            this.privateKeyFile = file;
            this.keyPassphrase = null;
            return this;
        }

        /**
         * A private key file encrypted with {@code passphrase} (a secret: never logged, never in a
         * message); parsed and decrypted on the first connect.
         */
        public Builder privateKeyFile(Path file, String passphrase) {
            Objects.requireNonNull(passphrase, "passphrase");
            if (passphrase.isEmpty()) {
                throw new IllegalArgumentException("passphrase must not be empty (use privateKeyFile(Path))");
            }
            privateKeyFile(file);
            this.keyPassphrase = passphrase;
            return this;
        }

        /** A key pair held in memory (for example loaded from a vault). */
        public Builder keyPair(KeyPair keyPair) {
            Objects.requireNonNull(keyPair, "keyPair");
            if (keyPair.getPrivate() == null || keyPair.getPublic() == null) {
                throw new IllegalArgumentException("key pair must have both a public and a private key");
            }
            this.keyPair = keyPair;
            return this;
        }

        /** Password authentication; the password is a secret and is never logged or shown. */
        public Builder password(String password) {
            Objects.requireNonNull(password, "password");
            if (password.isEmpty()) {
                throw new IllegalArgumentException("password must not be empty");
            }
            this.password = password;
            return this;
        }

        /**
         * The known_hosts file the server key must be listed in (default
         * {@code ~/.ssh/known_hosts}). It is read at connect time, never written.
         */
        public Builder knownHostsFile(Path file) {
            this.knownHostsFile = Objects.requireNonNull(file, "file");
            return this;
        }

        /**
         * Turns host key checking OFF: any server key is accepted, so anyone who can intercept
         * the connection can read and alter everything, passwords included. For throw-away test
         * hosts only; every connection logs a WARN with the key's fingerprint.
         */
        public Builder acceptAnyHostKeyInsecurely() {
            this.acceptAnyHostKey = true;
            return this;
        }

        /** Limit for the TCP connect and the SSH handshake (default 10 s). */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /** Limit for key exchange plus authentication (default 30 s). */
        public Builder authTimeout(Duration timeout) {
            this.authTimeout = positive(timeout, "authTimeout");
            return this;
        }

        /** @throws IllegalStateException host, user or every credential missing */
        public SshTarget build() {
            if (host == null) {
                throw new IllegalStateException("SshTarget needs a host");
            }
            if (user == null) {
                throw new IllegalStateException("SshTarget for " + host + " needs a user");
            }
            if (privateKeyFile == null && keyPair == null && password == null) {
                throw new IllegalStateException("SshTarget for " + user + "@" + host
                        + " needs a private key file, a key pair or a password");
            }
            return new SshTarget(this);
        }

        private static Duration positive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(what + " must be positive: " + d);
            }
            return d;
        }
    }
}
