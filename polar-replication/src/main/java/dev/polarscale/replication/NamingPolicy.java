package dev.polarscale.replication;

import dev.polarscale.core.Names;
import dev.polarscale.core.Port;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How {@link ScaleTarget#count} names, places and lays out the followers it adds, and which
 * followers it governs: exactly those named {@code <prefix><number>} ({@code standby-1},
 * {@code standby-2}, ...). A node named otherwise (added by hand, or by another policy) is never
 * counted, removed or renamed by a count-based scale.
 *
 * <pre>{@code
 * NamingPolicy policy = NamingPolicy.builder()
 *         .prefix("standby-")                          // standby-1, standby-2, ... (lowest free number first)
 *         .ports(5433)                                 // the lowest free port from 5433 on the node's host
 *         .dataDirectories(Path.of("/srv/polar"))      // /srv/polar/standby-1, ...
 *         .hosts("10.0.0.2", "10.0.0.3")               // spread over these (default: the primary's host)
 *         .build();
 * }</pre>
 *
 * <p>A new node gets the lowest number no registered node's name (or slot) uses, the host among
 * {@link #hosts()} with the fewest nodes of this policy (ties: the first listed), and the lowest
 * port of the range that no registered node of that host uses and on which nothing answers a TCP
 * connect from this machine.
 */
public final class NamingPolicy {
    private final String prefix;
    private final Port firstPort;
    private final Port lastPort;
    private final Path dataDirectoryBase;
    private final List<String> hosts;
    private final Pattern governed;

    private NamingPolicy(Builder b) {
        this.prefix = b.prefix;
        this.firstPort = b.firstPort;
        this.lastPort = b.lastPort;
        this.dataDirectoryBase = b.dataDirectoryBase;
        this.hosts = List.copyOf(b.hosts);
        this.governed = Pattern.compile(Pattern.quote(prefix) + "([1-9][0-9]{0,5})");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Names are this prefix and a number, e.g. {@code standby-} gives {@code standby-1}. */
    public String prefix() {
        return prefix;
    }

    public Port firstPort() {
        return firstPort;
    }

    public Port lastPort() {
        return lastPort;
    }

    /** A node's data directory is this directory and its name. */
    public Path dataDirectoryBase() {
        return dataDirectoryBase;
    }

    /** Where new nodes go; empty means the primary's host. */
    public List<String> hosts() {
        return hosts;
    }

    /** The name of node number {@code n} ({@code n >= 1}). */
    public String name(int n) {
        if (n < 1 || n > 999_999) {
            throw new IllegalArgumentException("node number must be 1..999999: " + n);
        }
        return prefix + n;
    }

    /** The number of a node this policy governs; empty for any other name. */
    public OptionalInt number(String name) {
        Matcher m = governed.matcher(name);
        return m.matches() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
    }

    /** Whether this policy governs (counts, and may remove) the node of that name. */
    public boolean governs(String name) {
        return number(name).isPresent();
    }

    /** The data directory of the node of that name. */
    public Path dataDirectory(String name) {
        return dataDirectoryBase.resolve(name);
    }

    @Override
    public String toString() {
        return prefix + "<n> on " + (hosts.isEmpty() ? "the primary's host" : String.join(", ", hosts)) + ", ports "
                + firstPort + ".." + lastPort + ", in " + dataDirectoryBase + "/<name>";
    }

    /** Builds a {@link NamingPolicy}; each call rejects a bad value at once. */
    public static final class Builder {
        private String prefix;
        private Port firstPort;
        private Port lastPort;
        private Path dataDirectoryBase;
        private final List<String> hosts = new ArrayList<>();

        private Builder() {
        }

        /**
         * The name prefix, e.g. {@code standby-}: with a number it must make a node name, and it
         * may not end in a digit (so that {@code node1} + 2 cannot read as {@code node} + 12).
         */
        public Builder prefix(String prefix) {
            Objects.requireNonNull(prefix, "prefix");
            if (prefix.isEmpty() || Character.isDigit(prefix.charAt(prefix.length() - 1)) || prefix.length() > 56) {
                throw new IllegalArgumentException("invalid name prefix '" + prefix + "': 1..56 characters, not "
                        + "ending in a digit");
            }
            Names.requireNodeName(prefix + "1", "name prefix '" + prefix + "' with a number");
            this.prefix = prefix;
            return this;
        }

        /** Ports from {@code first} up to 65535. */
        public Builder ports(int first) {
            return ports(first, 65535);
        }

        /** Ports from {@code first} to {@code last}, both included. */
        public Builder ports(int first, int last) {
            Port f = Port.of(first);
            Port l = Port.of(last);
            if (l.value() < f.value()) {
                throw new IllegalArgumentException("port range " + first + ".." + last + " is empty");
            }
            this.firstPort = f;
            this.lastPort = l;
            return this;
        }

        /** Each node's data directory is {@code base/<name>}; {@code base} must be absolute. */
        public Builder dataDirectories(Path base) {
            this.dataDirectoryBase = Names.requireDirectory(base, "data directory base");
            return this;
        }

        /** The hosts new nodes are spread over (each registered in the {@link ClusterSpec}). */
        public Builder hosts(String... hosts) {
            List<String> l = new ArrayList<>();
            for (String h : Objects.requireNonNull(hosts, "hosts")) {
                String valid = ClusterSpec.validHost(h);
                if (l.contains(valid)) {
                    throw new IllegalArgumentException("host " + valid + " is listed twice");
                }
                l.add(valid);
            }
            this.hosts.clear();
            this.hosts.addAll(l);
            return this;
        }

        public NamingPolicy build() {
            if (prefix == null) {
                throw new IllegalStateException("prefix(...) is required");
            }
            if (firstPort == null) {
                throw new IllegalStateException(prefix + "<n> - ports(...) is required");
            }
            if (dataDirectoryBase == null) {
                throw new IllegalStateException(prefix + "<n> - dataDirectories(...) is required");
            }
            return new NamingPolicy(this);
        }
    }
}
