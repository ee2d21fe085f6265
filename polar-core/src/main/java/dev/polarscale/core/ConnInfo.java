package dev.polarscale.core;

import dev.polarscale.core.internal.conf.GucSyntax;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An immutable libpq connection string, as a Replica or Standby uses in {@code primary_conninfo}.
 * Keywords are those of PostgreSQL 15's libpq (an unknown one makes the walreceiver fail at
 * every retry); values are written bare when they are plain words and otherwise in single quotes
 * with {@code '} and {@code \} escaped by a backslash, as libpq reads them.
 *
 * <pre>{@code
 * ConnInfo primary = ConnInfo.builder()
 *         .host("10.0.0.1").port(5432).user("replicator").password("s3cret")
 *         .dbname("postgres").applicationName("replica1")
 *         .build();
 * primary.render();    // host=10.0.0.1 port=5432 user=replicator password=s3cret dbname=postgres application_name=replica1
 * primary.toString();  // ... password=****** ...  (safe for logs)
 * primary.withoutPassword().render();   // for a node that reads the password from ~/.pgpass
 * }</pre>
 *
 * <p>Values cannot hold control characters (line breaks included): the string ends up inside a
 * quoted {@code postgresql.conf} value, where a line break is a syntax error.
 */
public final class ConnInfo {

    /** libpq's {@code sslmode}. */
    public enum SslMode {
        DISABLE, ALLOW, PREFER, REQUIRE, VERIFY_CA, VERIFY_FULL;

        /** The libpq spelling, e.g. {@code verify-full}. */
        public String value() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** Rendering order for the keywords typed setters write; others follow in the order they were set. */
    private static final List<String> ORDER = List.of(
            "host", "hostaddr", "port", "user", "password", "passfile", "dbname", "application_name", "sslmode",
            "connect_timeout");

    /** PostgreSQL 15 libpq keywords, minus {@code replication}, which the walreceiver sets itself. */
    private static final Set<String> KEYWORDS = Set.of(
            "service", "user", "password", "passfile", "channel_binding", "connect_timeout", "dbname", "host",
            "hostaddr", "port", "client_encoding", "options", "application_name", "fallback_application_name",
            "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
            "sslmode", "sslcompression", "sslcert", "sslkey", "sslpassword", "sslrootcert", "sslcrl", "sslcrldir",
            "sslsni", "requirepeer", "ssl_min_protocol_version", "ssl_max_protocol_version", "gssencmode",
            "krbsrvname", "gsslib", "target_session_attrs");

    private static final Set<String> SECRET_KEYWORDS = Set.of("password", "sslpassword");
    private static final Pattern BARE = Pattern.compile("[A-Za-z0-9_.,:/@%+-]+");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:-]+|/[^\\s'\"\\\\]*");
    private static final Pattern PRINTABLE_ASCII = Pattern.compile("[\\x20-\\x7e]{1,63}");

    private final Map<String, String> values;

    private ConnInfo(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.values.putAll(values);
        return b;
    }

    /** The value of a keyword, as libpq will read it (unquoted). */
    public Optional<String> get(String keyword) {
        return Optional.ofNullable(values.get(keyword));
    }

    public Optional<String> host() {
        return get("host");
    }

    public Optional<Port> port() {
        return get("port").map(p -> Port.of(Integer.parseInt(p)));
    }

    public Optional<String> user() {
        return get("user");
    }

    /** The password, for a caller that writes it to a {@code .pgpass} file instead of the config. */
    public Optional<String> password() {
        return get("password");
    }

    public Optional<String> dbname() {
        return get("dbname");
    }

    public Optional<String> applicationName() {
        return get("application_name");
    }

    /** Every keyword and value, in rendering order, unquoted. */
    public Map<String, String> values() {
        return values;
    }

    /** A copy without {@code password}. */
    public ConnInfo withoutPassword() {
        Map<String, String> copy = new LinkedHashMap<>(values);
        copy.remove("password");
        return new ConnInfo(copy);
    }

    /** The connection string, password included: for {@code primary_conninfo}, never for logs. */
    public String render() {
        return render(false);
    }

    /** The connection string with every password replaced by {@value Command#MASK}. */
    public String renderMasked() {
        return render(true);
    }

    private String render(boolean masked) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : values.entrySet()) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            boolean mask = masked && SECRET_KEYWORDS.contains(e.getKey());
            sb.append(e.getKey()).append('=').append(mask ? Command.MASK : quote(e.getValue()));
        }
        return sb.toString();
    }

    /** One value as libpq reads it: bare if it is a plain word, else {@code '...'} with {@code \'} and {@code \\}. */
    static String quote(String value) {
        if (BARE.matcher(value).matches()) {
            return value;
        }
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /** Same as {@link #renderMasked()}. */
    @Override
    public String toString() {
        return renderMasked();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConnInfo c && c.values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    /** Builds a {@link ConnInfo}; every call rejects a bad value at once, setting a keyword twice keeps the last. */
    public static final class Builder {
        private final Map<String, String> values = new LinkedHashMap<>();

        private Builder() {
        }

        /** A host name, IP address or (starting with {@code /}) a Unix-socket directory. */
        public Builder host(String host) {
            checked("host", host);
            if (!HOST.matcher(host).matches()) {
                throw new IllegalArgumentException("invalid host '" + GucSyntax.printable(host)
                        + "': expected a host name, an IP address or an absolute socket directory");
            }
            return put("host", host);
        }

        public Builder port(Port port) {
            Objects.requireNonNull(port, "port");
            return put("port", Integer.toString(port.value()));
        }

        public Builder port(int port) {
            return port(Port.of(port));
        }

        public Builder user(String user) {
            return put("user", nonEmpty("user", user));
        }

        /** The password; kept out of {@link #toString()} and available through {@link ConnInfo#password()}. */
        public Builder password(String password) {
            return put("password", checked("password", password));
        }

        public Builder dbname(String dbname) {
            return put("dbname", nonEmpty("dbname", dbname));
        }

        /**
         * The name the primary shows in {@code pg_stat_replication}. PostgreSQL silently truncates
         * to 63 bytes and replaces non-ASCII with {@code ?}; such names are rejected here instead.
         */
        public Builder applicationName(String name) {
            checked("application_name", name);
            if (!PRINTABLE_ASCII.matcher(name).matches()) {
                throw new IllegalArgumentException("invalid application_name '" + GucSyntax.printable(name)
                        + "': must be 1..63 printable ASCII characters");
            }
            return put("application_name", name);
        }

        public Builder sslMode(SslMode mode) {
            Objects.requireNonNull(mode, "sslmode");
            return put("sslmode", mode.value());
        }

        /** libpq's {@code connect_timeout}, whole seconds, at least 2 (libpq raises 1 to 2). */
        public Builder connectTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "connect_timeout");
            if (timeout.getSeconds() < 2 || timeout.getNano() != 0) {
                throw new IllegalArgumentException("connect_timeout must be whole seconds >= 2: " + timeout);
            }
            return put("connect_timeout", Long.toString(timeout.getSeconds()));
        }

        /**
         * Any other libpq keyword, e.g. {@code option("keepalives_idle", "30")}. Keywords with a
         * typed method above must use it.
         */
        public Builder option(String keyword, String value) {
            Objects.requireNonNull(keyword, "keyword");
            if (!KEYWORDS.contains(keyword)) {
                throw new IllegalArgumentException("unknown libpq connection keyword '"
                        + GucSyntax.printable(keyword) + "'");
            }
            if (ORDER.contains(keyword) && !keyword.equals("hostaddr") && !keyword.equals("passfile")) {
                throw new IllegalArgumentException("'" + keyword + "' has a typed method: use "
                        + camel(keyword) + "(...)");
            }
            return put(keyword, checked(keyword, value));
        }

        public ConnInfo build() {
            Map<String, String> ordered = new LinkedHashMap<>();
            for (String k : ORDER) {
                if (values.containsKey(k)) {
                    ordered.put(k, values.get(k));
                }
            }
            values.forEach(ordered::putIfAbsent);
            return new ConnInfo(ordered);
        }

        private Builder put(String keyword, String value) {
            values.put(keyword, value);
            return this;
        }

        private static String checked(String keyword, String value) {
            return GucSyntax.checkValue(keyword, value);
        }

        private static String nonEmpty(String keyword, String value) {
            checked(keyword, value);
            if (value.isEmpty()) {
                throw new IllegalArgumentException(keyword + " must not be empty");
            }
            return value;
        }

        private static String camel(String keyword) {
            StringBuilder sb = new StringBuilder();
            boolean up = false;
            for (char c : keyword.toCharArray()) {
                if (c == '_') {
                    up = true;
                } else {
                    sb.append(up ? Character.toUpperCase(c) : c);
                    up = false;
                }
            }
            return sb.toString().replace("sslmode", "sslMode");
        }
    }
}
