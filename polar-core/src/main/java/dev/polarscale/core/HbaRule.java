package dev.polarscale.core;

import dev.polarscale.core.internal.conf.Cidr;
import dev.polarscale.core.internal.conf.ConfFiles;
import dev.polarscale.core.internal.conf.GucSyntax;
import dev.polarscale.core.internal.conf.ManagedBlock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One {@code pg_hba.conf} line. Secure by default: password authentication with
 * {@code scram-sha-256} from a named network. {@code trust} and "from anywhere" exist only
 * behind methods whose names say what they are ({@link Builder#insecureTrust()},
 * {@link Builder#fromAnywhereInsecure()}); the tutorial's {@code host replication postgres
 * 0.0.0.0/0 trust} lets anyone who can reach the port copy the whole database.
 *
 * <pre>{@code
 * List<HbaRule> rules = List.of(
 *         HbaRule.replication("replicator", "10.0.0.0/24"),          // host replication replicator 10.0.0.0/24 scram-sha-256
 *         HbaRule.builder().type(HbaRule.ConnectionType.HOSTSSL)
 *                 .database("app").user("app").address("fd00::/8").build());
 * HbaRule.writeInto(dataDir.resolve("pg_hba.conf"), rules);
 * }</pre>
 *
 * <p>The rules are written as a managed block at the TOP of the file, because the first matching
 * line wins; writing again replaces the block. Note that lines below it still apply to whatever
 * the block does not match: {@code initdb} without {@code --auth} writes {@code trust} lines.
 */
public final class HbaRule {
    private static final Logger LOG = LoggerFactory.getLogger(HbaRule.class);
    private static final String FILE = "pg_hba.conf";
    /** Words pg_hba.conf reads as keywords unless they are quoted. */
    private static final Set<String> KEYWORDS = Set.of("all", "sameuser", "samerole", "samegroup", "replication");
    private static final int MAX_NAME_BYTES = 63;

    /** The first field of a line. */
    public enum ConnectionType {
        /** Unix-domain socket; no address. */
        LOCAL,
        /** TCP/IP, with or without SSL. */
        HOST,
        /** TCP/IP with SSL only. */
        HOSTSSL,
        /** TCP/IP without SSL only. */
        HOSTNOSSL;

        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Authentication method; {@code trust} is deliberately absent, see {@link Builder#insecureTrust()}. */
    public enum Method {
        SCRAM_SHA_256("scram-sha-256"), MD5("md5"), PEER("peer"), REJECT("reject");

        private final String value;

        Method(String value) {
            this.value = value;
        }

        public String value() {
            return value;
        }
    }

    private final ConnectionType type;
    private final String database;
    private final String user;
    private final String address;
    private final String method;

    private HbaRule(Builder b) {
        this.type = b.type;
        this.database = b.database;
        this.user = b.user;
        this.address = b.address;
        this.method = b.method;
    }

    /** {@code host replication <role> <cidr> scram-sha-256}: what a replica or standby connects with. */
    public static HbaRule replication(String role, String cidr) {
        return builder().replicationDatabase().user(role).address(cidr).build();
    }

    /** A builder with type {@code host} and method {@code scram-sha-256}; database and user must be set. */
    public static Builder builder() {
        return new Builder();
    }

    public ConnectionType type() {
        return type;
    }

    /** The database field as written (a keyword, or a name, quoted if needed). */
    public String database() {
        return database;
    }

    /** The user field as written. */
    public String user() {
        return user;
    }

    /** The address field as written; empty for {@code local}. */
    public Optional<String> address() {
        return Optional.ofNullable(address);
    }

    /** The method field as written, e.g. {@code scram-sha-256}. */
    public String method() {
        return method;
    }

    /** The line, fields separated by single spaces, without a line break. */
    public String render() {
        return type.value() + " " + database + " " + user + (address == null ? "" : " " + address) + " " + method;
    }

    /** Each rule's line, each ending in {@code \n}. */
    public static String render(List<HbaRule> rules) {
        StringBuilder sb = new StringBuilder();
        for (HbaRule r : rules) {
            sb.append(r.render()).append('\n');
        }
        return sb.toString();
    }

    /**
     * {@code existingContent} of a {@code pg_hba.conf} with {@code rules} as the managed block at
     * the top; an earlier managed block is removed, every other line is kept as it is.
     *
     * @throws PolarException if the file's block markers were edited by hand
     */
    public static String mergeInto(String existingContent, List<HbaRule> rules) {
        return ManagedBlock.merge(existingContent, render(rules), ManagedBlock.Position.TOP, FILE);
    }

    /**
     * {@code existingContent} with {@code rules} as its managed block, kept where it is: a file that
     * has none gets it first (rules of PolarScale's own clusters come before all others) or last
     * ({@code first = false}: for a cluster PolarScale adopted, where the existing lines keep
     * deciding and the managed block only adds access that nothing else grants). Every other line
     * is kept as it is.
     *
     * @throws PolarException if the file's block markers were edited by hand
     */
    public static String mergeInto(String existingContent, List<HbaRule> rules, boolean firstWhenNew) {
        return mergeRawInto(existingContent, render(rules), firstWhenNew);
    }

    /** The rule lines inside the managed block of a {@code pg_hba.conf}'s {@code content}, stripped; none if it has no block. */
    public static List<String> managedBlockLines(String content) {
        return ManagedBlock.bodyLines(content);
    }

    /**
     * {@link #mergeInto(String, List, boolean)} with an already rendered block body (complete
     * lines), e.g. the lines of an existing block plus rendered rules.
     */
    public static String mergeRawInto(String existingContent, String body, boolean firstWhenNew) {
        return ManagedBlock.replaceInPlace(existingContent, body,
                firstWhenNew ? ManagedBlock.Position.TOP : ManagedBlock.Position.BOTTOM, FILE);
    }

    /**
     * Rewrites an existing {@code pg_hba.conf} with {@link #mergeInto(String, List)}, atomically,
     * keeping the file's mode, owner and group. The server reads it at start or on reload.
     *
     * @throws PolarException if the file cannot be read or written, or its markers are broken
     */
    public static void writeInto(Path hbaConf, List<HbaRule> rules) {
        List<HbaRule> copy = List.copyOf(rules);
        LOG.debug("{} - writing managed block:\n{}", hbaConf, render(copy));
        ConfFiles.rewrite(hbaConf, existing -> mergeInto(existing, copy));
    }

    @Override
    public String toString() {
        return render();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HbaRule r && r.render().equals(render());
    }

    @Override
    public int hashCode() {
        return render().hashCode();
    }

    /** Builds an {@link HbaRule}; each call rejects a bad value at once. */
    public static final class Builder {
        private ConnectionType type = ConnectionType.HOST;
        private String database;
        private String user;
        private String address;
        private String method = Method.SCRAM_SHA_256.value();

        private Builder() {
        }

        public Builder type(ConnectionType type) {
            this.type = Objects.requireNonNull(type, "type");
            return this;
        }

        /** A database by name; a name that is also a keyword ({@code all}, {@code replication}, ...) is quoted. */
        public Builder database(String name) {
            this.database = name("database", name);
            return this;
        }

        /** The keyword {@code all}. */
        public Builder allDatabases() {
            this.database = "all";
            return this;
        }

        /** The keyword {@code replication}: physical replication connections. */
        public Builder replicationDatabase() {
            this.database = "replication";
            return this;
        }

        /** A role by name; quoted when it is a keyword or starts with {@code +}, {@code @} or {@code /}. */
        public Builder user(String name) {
            this.user = name("user", name);
            return this;
        }

        /** The keyword {@code all}. */
        public Builder allUsers() {
            this.user = "all";
            return this;
        }

        /**
         * A network in CIDR notation, IPv4 ({@code 10.0.0.0/24}, {@code 192.168.1.7/32}) or IPv6
         * ({@code fd00::/8}). Host bits must be zero; a {@code /0} network is refused, see
         * {@link #fromAnywhereInsecure()}.
         */
        public Builder address(String cidr) {
            Cidr c = Cidr.parse(cidr);
            if (c.isEverything()) {
                throw new IllegalArgumentException("address '" + cidr + "' matches every client; if that is really"
                        + " meant, call fromAnywhereInsecure()");
            }
            this.address = c.text();
            return this;
        }

        /**
         * INSECURE: matches clients from every IPv4 and IPv6 address (writes {@code all}). With
         * anything but {@link Method#REJECT}, any host on any network that reaches the port may try
         * to log in (or, with {@link #insecureTrust()}, log in without a password). Only for
         * throw-away test clusters, or for a final {@code reject} line.
         */
        public Builder fromAnywhereInsecure() {
            this.address = "all";
            return this;
        }

        public Builder method(Method method) {
            this.method = Objects.requireNonNull(method, "method").value();
            return this;
        }

        /**
         * INSECURE: method {@code trust}, which lets whoever matches the line connect as any role it
         * names, without a password; on a {@code replication} line that is a full copy of every
         * database. Only for throw-away test clusters on a closed host.
         */
        public Builder insecureTrust() {
            this.method = "trust";
            return this;
        }

        /**
         * @throws IllegalStateException if a field is missing or the fields contradict each other
         */
        public HbaRule build() {
            if (database == null || user == null) {
                throw new IllegalStateException("an HbaRule needs a database and a user (database: " + database
                        + ", user: " + user + ")");
            }
            if (type == ConnectionType.LOCAL && address != null) {
                throw new IllegalStateException("a local rule takes no address (is: " + address + ")");
            }
            if (type != ConnectionType.LOCAL && address == null) {
                throw new IllegalStateException("a " + type.value() + " rule needs an address");
            }
            if (type != ConnectionType.LOCAL && method.equals(Method.PEER.value())) {
                throw new IllegalStateException("peer authentication works only on local rules, not " + type.value());
            }
            return new HbaRule(this);
        }

        private static String name(String what, String name) {
            Objects.requireNonNull(name, what);
            if (name.isEmpty()) {
                throw new IllegalArgumentException(what + " name must not be empty");
            }
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                if (Character.isWhitespace(c) || Character.isISOControl(c) || Character.isSpaceChar(c)
                        || c == '"' || c == '\'' || c == ',' || c == '#') {
                    throw new IllegalArgumentException("invalid " + what + " name '" + GucSyntax.printable(name)
                            + "': whitespace, quotes, ',' and '#' are not allowed");
                }
            }
            if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                throw new IllegalArgumentException("invalid " + what + " name '" + name + "': longer than "
                        + MAX_NAME_BYTES + " bytes");
            }
            char first = name.charAt(0);
            if (KEYWORDS.contains(name) || first == '+' || first == '@' || first == '/') {
                return '"' + name + '"';
            }
            return name;
        }
    }
}
