package dev.polarscale.replication;

import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.core.HbaRule;
import dev.polarscale.core.OsUsers;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.Port;
import dev.polarscale.core.Names;
import dev.polarscale.core.Secrets;
import dev.polarscale.storage.SharedStorage;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Everything a {@link ClusterScaler} needs to know about a cluster: its primary, the hosts its
 * nodes live on (each with a {@link CommandExecutor}), the server binaries, the credentials and
 * the timeouts.
 *
 * <pre>{@code
 * ClusterSpec spec = ClusterSpec.builder()
 *         .primary("primary", "127.0.0.1", 5432, Path.of("/srv/polar/primary"))
 *         .host("127.0.0.1", Executors.local())
 *         .build();
 * }</pre>
 *
 * <p>Passwords are generated (24 random characters) unless given, and never logged. Replication
 * uses a dedicated role with {@code scram-sha-256}, allowed only from the listed CIDRs (by
 * default each registered host's {@code /32}).
 */
public final class ClusterSpec {
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.:-]{0,252}");

    private final String primaryName;
    private final String primaryHost;
    private final Port primaryPort;
    private final Path primaryDataDirectory;
    private final Map<String, CommandExecutor> hosts;
    private final PgInstallation installation;
    private final String osUser;
    private final String superuserPassword;
    private final String replicationUser;
    private final String replicationPassword;
    private final List<String> replicationCidrs;
    private final Duration lockTimeout;
    private final Duration verifyTimeout;
    private final ScaleListener listener;
    private final SharedStorage sharedStorage;
    private final Path templateCache;
    private final int maxWalSenders;
    private final String superuser;
    private final String controlAddress;
    private final boolean superuserPasswordGiven;
    private final boolean replicationPasswordGiven;
    private final EventRetention eventRetention;

    private ClusterSpec(Builder b) {
        this.primaryName = b.primaryName;
        this.primaryHost = b.primaryHost;
        this.primaryPort = b.primaryPort;
        this.primaryDataDirectory = b.primaryDataDirectory;
        this.hosts = Map.copyOf(b.hosts);
        this.installation = b.installation;
        this.osUser = b.osUser;
        this.superuserPassword = b.superuserPassword;
        this.replicationUser = b.replicationUser;
        this.replicationPassword = b.replicationPassword;
        this.replicationCidrs = List.copyOf(b.replicationCidrs);
        this.lockTimeout = b.lockTimeout;
        this.verifyTimeout = b.verifyTimeout;
        this.listener = b.listener;
        this.eventRetention = b.eventRetention;
        this.sharedStorage = b.sharedStorage;
        this.templateCache = b.templateCache;
        this.maxWalSenders = b.maxWalSenders;
        this.superuser = b.superuser;
        this.controlAddress = b.controlAddress;
        this.superuserPasswordGiven = b.superuserPasswordGiven;
        this.replicationPasswordGiven = b.replicationPasswordGiven;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String primaryName() {
        return primaryName;
    }

    public String primaryHost() {
        return primaryHost;
    }

    public Port primaryPort() {
        return primaryPort;
    }

    public Path primaryDataDirectory() {
        return primaryDataDirectory;
    }

    /** The executor for a registered host. */
    public CommandExecutor executor(String host) {
        CommandExecutor e = hosts.get(host);
        if (e == null) {
            throw new IllegalArgumentException("host '" + host + "' is not registered in the cluster spec; known: "
                    + hosts.keySet());
        }
        return e;
    }

    public Map<String, CommandExecutor> hosts() {
        return hosts;
    }

    /** Server binaries; empty means {@code PgBinaries.locate()} on first use. */
    public Optional<PgInstallation> installation() {
        return Optional.ofNullable(installation);
    }

    /** The OS user servers run as; empty means {@code OsUsers.serverUser(executor)} per host. */
    public Optional<String> osUser() {
        return Optional.ofNullable(osUser);
    }

    /** The database superuser PolarScale connects as; default {@code postgres}. */
    public String superuser() {
        return superuser;
    }

    /**
     * Whether the superuser's password was given rather than generated: a cluster PolarScale did
     * not deploy can only be adopted with its real password.
     */
    public boolean superuserPasswordGiven() {
        return superuserPasswordGiven;
    }

    /** Whether the replication role's password was given rather than generated. */
    public boolean replicationPasswordGiven() {
        return replicationPasswordGiven;
    }

    /**
     * The address this machine's connections to the cluster come from, as the servers see them;
     * empty means "found per host" (the local address the OS routes to it). A remote primary gets a
     * {@code scram-sha-256} rule for it, for the superuser only.
     */
    public Optional<String> controlAddress() {
        return Optional.ofNullable(controlAddress);
    }

    /** The database superuser's password (secret). */
    public String superuserPassword() {
        return superuserPassword;
    }

    public String replicationUser() {
        return replicationUser;
    }

    /** The replication role's password (secret). */
    public String replicationPassword() {
        return replicationPassword;
    }

    /**
     * Where replication connections may come from, as given by
     * {@link Builder#allowReplicationFrom}; each becomes one {@code scram-sha-256} rule. Empty (the
     * default) means one {@code /32} (or {@code /128}) rule per host that runs a node of the
     * cluster: a rule appears with a host's first node and goes with its last.
     */
    public List<String> replicationCidrs() {
        return replicationCidrs;
    }

    public Duration lockTimeout() {
        return lockTimeout;
    }

    public Duration verifyTimeout() {
        return verifyTimeout;
    }

    public ScaleListener listener() {
        return listener;
    }

    /** How much event history the primary keeps ({@link EventRetention#DEFAULT} unless set). */
    public EventRetention eventRetention() {
        return eventRetention;
    }

    /** PolarDB's shared storage; present means a PolarDB cluster with shared-storage replicas. */
    public Optional<SharedStorage> sharedStorage() {
        return Optional.ofNullable(sharedStorage);
    }

    /**
     * Where each host caches templates: the primary's initdb (each deploy copies it and gives the
     * copy its own system identifier) and a PolarDB replica's configuration. Empty: a plain initdb,
     * and replica templates in {@code <parent of the node's data directory>/.polarscale-templates}.
     */
    public Optional<Path> templateCache() {
        return Optional.ofNullable(templateCache);
    }

    /**
     * {@code max_wal_senders} and {@code max_replication_slots} of a deployed primary, and the
     * floor every follower gets: how many followers (plus one base backup in flight) the cluster
     * can carry. Default {@value Builder#DEFAULT_MAX_WAL_SENDERS}.
     */
    public int maxWalSenders() {
        return maxWalSenders;
    }

    /** A builder holding these settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.primaryName = primaryName;
        b.primaryHost = primaryHost;
        b.primaryPort = primaryPort;
        b.primaryDataDirectory = primaryDataDirectory;
        b.hosts.putAll(hosts);
        b.installation = installation;
        b.osUser = osUser;
        b.superuserPassword = superuserPassword;
        b.replicationUser = replicationUser;
        b.replicationPassword = replicationPassword;
        b.replicationCidrs.addAll(replicationCidrs);
        b.lockTimeout = lockTimeout;
        b.verifyTimeout = verifyTimeout;
        b.listener = listener;
        b.eventRetention = eventRetention;
        b.sharedStorage = sharedStorage;
        b.templateCache = templateCache;
        b.maxWalSenders = maxWalSenders;
        b.superuser = superuser;
        b.controlAddress = controlAddress;
        b.superuserPasswordGiven = superuserPasswordGiven;
        b.replicationPasswordGiven = replicationPasswordGiven;
        return b;
    }

    @Override
    public String toString() {
        return "ClusterSpec[primary " + primaryName + " " + primaryHost + ":" + primaryPort + " "
                + primaryDataDirectory + ", hosts " + hosts.keySet() + ", replication user " + replicationUser
                + " from " + replicationCidrs + "]";
    }

    static String validHost(String host) {
        Objects.requireNonNull(host, "host");
        if (!HOST.matcher(host).matches()) {
            throw new IllegalArgumentException("invalid host '" + host + "': expected a host name or IP address");
        }
        return host;
    }

    /** Builds a {@link ClusterSpec}; each call rejects a bad value at once. */
    public static final class Builder {
        private String primaryName;
        private String primaryHost;
        private Port primaryPort;
        private Path primaryDataDirectory;
        private final Map<String, CommandExecutor> hosts = new LinkedHashMap<>();
        private PgInstallation installation;
        private String osUser;
        private String superuserPassword;
        private String replicationUser = "polarscale_repl";
        private String replicationPassword;
        private final List<String> replicationCidrs = new ArrayList<>();
        private Duration lockTimeout = Duration.ofSeconds(60);
        private Duration verifyTimeout = Duration.ofSeconds(60);
        private ScaleListener listener = ScaleListener.NONE;
        private EventRetention eventRetention = EventRetention.DEFAULT;
        private SharedStorage sharedStorage;
        private Path templateCache;
        private int maxWalSenders = DEFAULT_MAX_WAL_SENDERS;
        private String superuser = "postgres";
        private String controlAddress;
        private boolean superuserPasswordGiven;
        private boolean replicationPasswordGiven;

        /** The default of {@link #maxWalSenders(int)}. */
        public static final int DEFAULT_MAX_WAL_SENDERS = 16;
        /** PostgreSQL's own limit on {@code max_wal_senders} (it counts toward {@code max_connections}). */
        public static final int MAX_WAL_SENDERS_LIMIT = 262143;

        private Builder() {
        }

        /**
         * {@code max_wal_senders} and {@code max_replication_slots} for the primary this spec
         * deploys (and the floor of every follower's): each follower holds one of each, a
         * streamed base backup one more walsender while it runs. Default 16.
         */
        public Builder maxWalSenders(int max) {
            if (max < 2 || max > MAX_WAL_SENDERS_LIMIT) {
                throw new IllegalArgumentException("maxWalSenders must be 2.." + MAX_WAL_SENDERS_LIMIT + ": " + max);
            }
            this.maxWalSenders = max;
            return this;
        }

        /**
         * Makes this a PolarDB cluster on shared storage: {@link ClusterScaler#deployPrimary()}
         * initialises the storage and {@link ClusterScaler#addReplica(NodeSpec)} adds read-only
         * nodes that share it.
         */
        public Builder sharedStorage(SharedStorage storage) {
            this.sharedStorage = Objects.requireNonNull(storage, "sharedStorage");
            return this;
        }

        /** See {@link ClusterSpec#templateCache()}. */
        public Builder templateCache(Path dir) {
            this.templateCache = Names.requireDirectory(dir, "template cache directory");
            return this;
        }

        /** The primary: name, host, port and data directory. */
        public Builder primary(String name, String host, int port, Path dataDirectory) {
            this.primaryName = Names.requireNodeName(name, "primary name");
            this.primaryHost = validHost(host);
            this.primaryPort = Port.of(port);
            this.primaryDataDirectory = Names.requireDirectory(dataDirectory, "primary data directory");
            return this;
        }

        /** Registers a host and the executor that runs commands on it. */
        public Builder host(String host, CommandExecutor executor) {
            hosts.put(validHost(host), Objects.requireNonNull(executor, "executor"));
            return this;
        }

        public Builder installation(PgInstallation installation) {
            this.installation = Objects.requireNonNull(installation, "installation");
            return this;
        }

        /** The unprivileged OS user that runs the servers on every host. */
        public Builder osUser(String user) {
            this.osUser = OsUsers.requireServerUser(user);
            return this;
        }

        public Builder superuserPassword(String password) {
            this.superuserPassword = Secrets.requirePassword(password, "superuser password");
            this.superuserPasswordGiven = true;
            return this;
        }

        /** The database superuser PolarScale connects as (a cluster it adopts may use another). */
        public Builder superuser(String user) {
            this.superuser = Names.requireRoleName(user, "superuser");
            return this;
        }

        /**
         * The address this machine's connections come from as the servers see them (behind NAT,
         * say); default: found per host. It gets a {@code scram-sha-256} rule for the superuser.
         */
        public Builder controlAddress(String address) {
            HbaRule.replication("x", address.contains(":") ? address + "/128" : address + "/32"); // validates
            this.controlAddress = address;
            return this;
        }

        public Builder replicationUser(String user) {
            this.replicationUser = Names.requireRoleName(user, "replication user");
            return this;
        }

        public Builder replicationPassword(String password) {
            this.replicationPassword = Secrets.requirePassword(password, "replication password");
            this.replicationPasswordGiven = true;
            return this;
        }

        /** Allows replication from this CIDR (validated); replaces the per-host defaults. */
        public Builder allowReplicationFrom(String cidr) {
            HbaRule.replication(replicationUser, cidr); // validates the CIDR, rejects 0.0.0.0/0
            replicationCidrs.add(cidr);
            return this;
        }

        public Builder lockTimeout(Duration t) {
            this.lockTimeout = Names.requirePositive(t, "lockTimeout");
            return this;
        }

        public Builder verifyTimeout(Duration t) {
            this.verifyTimeout = Names.requirePositive(t, "verifyTimeout");
            return this;
        }

        public Builder listener(ScaleListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * How much of the event history ({@code polarscale.events}) the primary keeps, e.g.
         * {@code eventRetention(new EventRetention(50_000, Duration.ofDays(90)))}.
         */
        public Builder eventRetention(EventRetention retention) {
            this.eventRetention = Objects.requireNonNull(retention, "eventRetention");
            return this;
        }


        public ClusterSpec build() {
            if (primaryName == null) {
                throw new IllegalStateException("primary(...) is required");
            }
            if (!hosts.containsKey(primaryHost)) {
                if (Executors.isLoopback(primaryHost)) {
                    hosts.put(primaryHost, Executors.local());
                } else {
                    throw new IllegalStateException("no executor registered for the primary's host " + primaryHost);
                }
            }
            if (superuserPassword == null) {
                superuserPassword = Secrets.randomPassword();
            }
            if (replicationPassword == null) {
                replicationPassword = Secrets.randomPassword();
            }
            if (replicationCidrs.isEmpty()) {
                for (String h : hosts.keySet()) {
                    if (!h.equals("localhost") && !h.contains(":") && !h.matches("[0-9.]+")) {
                        throw new IllegalStateException("host '" + h + "' is a name, not an address: "
                                + "say which addresses may replicate with allowReplicationFrom(cidr)");
                    }
                }
            }
            return new ClusterSpec(this);
        }
    }
}
