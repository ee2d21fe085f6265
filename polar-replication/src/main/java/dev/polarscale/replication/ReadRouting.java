package dev.polarscale.replication;

import dev.polarscale.core.NodeRole;
import dev.polarscale.core.Names;
import dev.polarscale.replication.internal.ReadPools;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Reads spread over the followers that can take them: from {@link ClusterScaler#status()}, the
 * followers that are {@linkplain NodeStatus#healthy() healthy} (they answer, are in recovery and
 * stream through an active slot) and within a lag bound, as a pgjdbc multi-host URL and as a
 * pooled {@link DataSource} that follows the cluster while nodes come and go.
 *
 * <pre>{@code
 * try (ClusterScaler scaler = ClusterScaler.forCluster(spec);
 *      ReadRouting reads = ReadRouting.builder(scaler)
 *              .credentials("app_reader", System.getenv("READER_PASSWORD"))  // or .asSuperuser()
 *              .maxLagBytes(16 * 1024 * 1024).maxLag(Duration.ofSeconds(5))
 *              .refreshEvery(Duration.ofSeconds(10))                          // and/or reads.refresh()
 *              .build()) {
 *     DataSource ds = reads.dataSource();   // keep this one: it follows the membership
 *     System.out.println(reads.jdbcUrl());
 *     // jdbc:postgresql://10.0.0.2:5432,10.0.0.3:5432,10.0.0.1:5432/postgres?targetServerType=preferSecondary&loadBalanceHosts=true
 *     scaler.addStandby(standby3);
 *     reads.refresh();                      // standby3 takes reads from now on
 * }
 * }</pre>
 *
 * <p><b>The URL.</b> The chosen followers, in membership order, and then the primary as the last
 * host, with {@code targetServerType=preferSecondary} and {@code loadBalanceHosts=true}: pgjdbc
 * picks a host at random for each new connection, tries the hosts it does not know to be a primary
 * first (it asks each server whether it is read-only and remembers the answer for
 * {@code hostRecheckSeconds}, 10 s by default), and connects to the primary only when no follower
 * answers. When no follower qualifies the URL names the primary alone: reads keep working and the
 * primary carries them. {@link Builder#primaryFallback(boolean) primaryFallback(false)} leaves the
 * primary out and uses {@code targetServerType=secondary}; with no follower left,
 * {@link #jdbcUrl()} then throws and {@link #dataSource()} refuses connections until a refresh
 * finds one.
 *
 * <p><b>The data source.</b> One HikariCP pool per set of hosts. When a refresh finds another
 * set, a new pool takes the new connections and the old one is retired: its idle connections are
 * closed at once, each borrowed one when it is returned, and the pool when none is left (or after
 * {@link Builder#drainTimeout}). A removed or excluded node therefore gets no new connection after
 * the refresh that dropped it, and an added one takes its share of new connections. Reads spread
 * per connection: concurrent borrowers land on different followers, while one thread that keeps
 * returning and borrowing tends to get the same pooled connection (HikariCP prefers it).
 *
 * <p><b>Refreshing.</b> {@link #refresh()} reads the status now; {@link Builder#refreshEvery}
 * also does it on a daemon thread of this object, stopped by {@link #close()}. A refresh that
 * cannot read the membership (the primary does not answer) keeps the current hosts: the
 * followers may well still serve reads, and pgjdbc skips a host that refuses connections.
 * Lag values the primary does not report (no {@code replay_lag} on an idle cluster) count as
 * within the bound.
 *
 * <p><b>Credentials.</b> The application should read as a role of its own
 * ({@link Builder#credentials}): a role created on the primary reaches every follower through
 * replication, and it needs only the privileges the reads need (e.g. {@code pg_read_all_data}).
 * {@link Builder#asSuperuser()} uses the scaler's superuser instead, which is simple but hands
 * every reader the power to read any table and call any function, such as
 * {@code pg_read_server_files}, on every follower's host; there is no default.
 *
 * <p>Close the routing before the scaler it reads the status with.
 */
public final class ReadRouting implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReadRouting.class);

    private final ClusterScaler scaler;
    private final long maxLagBytes;
    private final Duration maxLag;
    private final String database;
    private final boolean primaryFallback;
    private final Map<String, String> properties;
    private final ReadPools pools;
    private final ScheduledExecutorService scheduler;
    private volatile List<String> followers = List.of();
    private volatile String url;
    private volatile boolean closed;

    private ReadRouting(Builder b) {
        this.scaler = b.scaler;
        this.maxLagBytes = b.maxLagBytes;
        this.maxLag = b.maxLag;
        this.database = b.database;
        this.primaryFallback = b.primaryFallback;
        this.properties = Map.copyOf(b.properties);
        this.pools = new ReadPools(b.user, b.password, b.maximumPoolSize, b.drainTimeout);
        try {
            refresh();
        } catch (RuntimeException e) {
            pools.close();
            throw e;
        }
        if (b.refreshEvery != null) {
            scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "polarscale-read-routing");
                t.setDaemon(true);
                return t;
            });
            long ms = b.refreshEvery.toMillis();
            scheduler.scheduleWithFixedDelay(this::refreshQuietly, ms, ms, TimeUnit.MILLISECONDS);
        } else {
            scheduler = null;
        }
    }

    /** A routing for the cluster {@code scaler} manages; {@link Builder#build()} reads its status once. */
    public static Builder builder(ClusterScaler scaler) {
        return new Builder(Objects.requireNonNull(scaler, "scaler"));
    }

    /**
     * Reads the cluster's status and routes to the followers that qualify now.
     *
     * @return whether the hosts changed
     * @throws IllegalStateException closed
     */
    public synchronized boolean refresh() {
        if (closed) {
            throw new IllegalStateException("read routing is closed");
        }
        ClusterStatus status = scaler.nodeStatus();  // the nodes only: storage rows would cost a pgrep per host
        String primaryName = scaler.spec().primaryName();
        Optional<NodeStatus> primary = status.node(primaryName);
        if (primary.isEmpty() || !primary.get().reachable()) {
            LOG.warn("read routing - the membership cannot be read ({}); keeping {}",
                    primary.flatMap(NodeStatus::error).orElse("no primary row"), url == null ? "no hosts" : url);
            if (url == null) {
                route(List.of(), "the cluster's status cannot be read: "
                        + primary.flatMap(NodeStatus::error).orElse("no primary row"));
                return url != null;
            }
            pools.reap();
            return false;
        }
        List<NodeStatus> chosen = eligible(status, maxLagBytes, maxLag);
        List<String> before = followers;
        String urlBefore = url;
        route(chosen, "no follower is healthy and within the lag bound, and primaryFallback is off: "
                + status.nodes().stream().filter(n -> n.role() != NodeRole.PRIMARY)
                .map(n -> n.name() + (!n.healthy() ? " is not healthy" : " lags " + n.replayLagBytes().orElse(0)
                        + " bytes, " + n.replayLag().map(Duration::toMillis).orElse(0L) + " ms")).toList());
        pools.reap();
        boolean changed = !Objects.equals(urlBefore, url);
        if (changed || !before.equals(followers)) {
            LOG.info("read routing - followers {} (were {})", followers, before);
        }
        return changed;
    }

    private void route(List<NodeStatus> chosen, String whyNone) {
        followers = chosen.stream().map(NodeStatus::name).toList();
        List<String> hosts = new ArrayList<>();
        chosen.forEach(n -> hosts.add(hostPort(n.host(), n.port())));
        if (primaryFallback) {
            hosts.add(hostPort(scaler.spec().primaryHost(), scaler.spec().primaryPort().value()));
        }
        url = hosts.isEmpty() ? null : jdbcUrl(hosts, database, primaryFallback, properties);
        pools.use(Optional.ofNullable(url), whyNone);
    }

    private void refreshQuietly() {
        try {
            if (!closed) {
                refresh();
            }
        } catch (RuntimeException e) {
            LOG.warn("read routing - refresh failed, keeping {}: {}", url, e.toString());
        }
    }

    /**
     * The pgjdbc URL for reads now, e.g.
     * {@code jdbc:postgresql://h1:5433,h2:5434,h0:5432/postgres?targetServerType=preferSecondary&loadBalanceHosts=true}
     * (see the class comment). It carries no credentials.
     *
     * @throws IllegalStateException no follower qualifies and {@link Builder#primaryFallback} is off
     */
    public String jdbcUrl() {
        String u = url;
        if (u == null) {
            throw new IllegalStateException("read routing - no follower is healthy and within the lag bound, and "
                    + "primaryFallback is off");
        }
        return u;
    }

    /** The names of the followers reads go to now, in membership order (the primary is not listed). */
    public List<String> followers() {
        return followers;
    }

    /**
     * The pooled data source over {@link #jdbcUrl()}; the same object for the routing's whole life,
     * while the hosts behind it change with each refresh. Throws {@link java.sql.SQLException}
     * (SQLSTATE 08001) when there is no host, and after {@link #close()}.
     */
    public DataSource dataSource() {
        return pools;
    }

    /** Stops the periodic refresh and closes every pool, also connections still borrowed. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        pools.close();
    }

    /** Replaced pools whose borrowed connections are not all back yet (for tests). */
    int retiredPools() {
        return pools.retiredPools();
    }

    /**
     * The followers of {@code status} that can take reads: healthy, and neither further behind
     * than {@code maxLagBytes} of WAL nor than {@code maxLag} of replay time, where the primary
     * reports those values. PolarDB shared-storage replicas count as followers, as standbys do.
     */
    public static List<NodeStatus> eligible(ClusterStatus status, long maxLagBytes, Duration maxLag) {
        Objects.requireNonNull(maxLag, "maxLag");
        return status.nodes().stream().filter(n -> n.role() != NodeRole.PRIMARY).filter(NodeStatus::healthy)
                .filter(n -> n.replayLagBytes().isEmpty() || n.replayLagBytes().getAsLong() <= maxLagBytes)
                .filter(n -> n.replayLag().map(l -> l.compareTo(maxLag) <= 0).orElse(true))
                .toList();
    }

    static String hostPort(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    static String jdbcUrl(List<String> hosts, String database, boolean primaryFallback, Map<String, String> props) {
        StringBuilder sb = new StringBuilder("jdbc:postgresql://").append(String.join(",", hosts)).append('/')
                .append(database).append("?targetServerType=").append(primaryFallback ? "preferSecondary" : "secondary")
                .append("&loadBalanceHosts=true");
        props.forEach((k, v) -> sb.append('&').append(k).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return sb.toString();
    }

    @Override
    public String toString() {
        return "ReadRouting[" + (closed ? "closed" : url == null ? "no hosts" : url) + "]";
    }

    /** Builds a {@link ReadRouting}; each call rejects a bad value at once. */
    public static final class Builder {
        private static final Pattern PROPERTY = Pattern.compile("[A-Za-z][A-Za-z0-9]{0,63}");
        /** Set by the routing itself, or secrets that do not belong in a URL. */
        private static final Set<String> RESERVED = Set.of("targetservertype", "loadbalancehosts", "user",
                "password");

        private final ClusterScaler scaler;
        private long maxLagBytes = 16L * 1024 * 1024;
        private Duration maxLag = Duration.ofSeconds(10);
        private String user;
        private String password;
        private String database = "postgres";
        private boolean primaryFallback = true;
        private Duration refreshEvery;
        private int maximumPoolSize = 10;
        private Duration drainTimeout = Duration.ofSeconds(30);
        private final Map<String, String> properties = new LinkedHashMap<>();

        private Builder(ClusterScaler scaler) {
            this.scaler = scaler;
        }

        /** WAL bytes a follower may be behind the primary and still take reads; default 16 MiB. */
        public Builder maxLagBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("maxLagBytes must not be negative: " + bytes);
            }
            this.maxLagBytes = bytes;
            return this;
        }

        /** Replay lag ({@code pg_stat_replication.replay_lag}) a follower may have; default 10 s. */
        public Builder maxLag(Duration lag) {
            Objects.requireNonNull(lag, "maxLag");
            if (lag.isNegative()) {
                throw new IllegalArgumentException("maxLag must not be negative: " + lag);
            }
            this.maxLag = lag;
            return this;
        }

        /** The application's role for reads (recommended; see the class comment). */
        public Builder credentials(String user, String password) {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(password, "password");
            if (user.isEmpty() || user.length() > 63 || user.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException("user must be 1..63 characters without control characters: '"
                        + user + "'");
            }
            this.user = user;
            this.password = password;
            return this;
        }

        /** Reads as the scaler's superuser ({@link ClusterSpec#superuser()}); see the class comment. */
        public Builder asSuperuser() {
            this.user = scaler.spec().superuser();
            this.password = scaler.spec().superuserPassword();
            return this;
        }

        /** The database to connect to, {@code [a-z][a-z0-9_]{0,62}}; default {@code postgres}. */
        public Builder database(String name) {
            this.database = Names.requireRoleName(name, "database");
            return this;
        }

        /** Whether the primary takes reads when no follower answers or qualifies; default true. */
        public Builder primaryFallback(boolean fallback) {
            this.primaryFallback = fallback;
            return this;
        }

        /** Refreshes on a daemon thread at this interval (at least 100 ms); default: only {@link #refresh()}. */
        public Builder refreshEvery(Duration interval) {
            Objects.requireNonNull(interval, "refreshEvery");
            if (interval.toMillis() < 100) {
                throw new IllegalArgumentException("refreshEvery must be at least 100 ms: " + interval);
            }
            this.refreshEvery = interval;
            return this;
        }

        /** Connections per pool, 1..1000; default 10. */
        public Builder maximumPoolSize(int size) {
            if (size < 1 || size > 1000) {
                throw new IllegalArgumentException("maximumPoolSize must be 1..1000: " + size);
            }
            this.maximumPoolSize = size;
            return this;
        }

        /** How long a replaced pool waits for its borrowed connections before it closes them; default 30 s. */
        public Builder drainTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "drainTimeout");
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("drainTimeout must not be negative: " + timeout);
            }
            this.drainTimeout = timeout;
            return this;
        }

        /**
         * Another pgjdbc connection property for the URL, e.g. {@code ("connectTimeout", "2")} or
         * {@code ("hostRecheckSeconds", "2")}; the value is URL-encoded. {@code targetServerType},
         * {@code loadBalanceHosts}, {@code user} and {@code password} are refused: the routing sets
         * the first two, and credentials do not belong in a URL.
         */
        public Builder property(String name, String value) {
            Objects.requireNonNull(name, "property name");
            Objects.requireNonNull(value, "property value");
            if (!PROPERTY.matcher(name).matches()) {
                throw new IllegalArgumentException("not a pgjdbc property name: '" + name + "'");
            }
            if (RESERVED.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                throw new IllegalArgumentException("property '" + name + "' is set by the read routing or is a "
                        + "credential: use credentials(...)");
            }
            if (value.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException("property '" + name + "' has control characters in its value");
            }
            properties.put(name, value);
            return this;
        }

        /**
         * The routing, with hosts from the status read now.
         *
         * @throws IllegalStateException neither {@link #credentials} nor {@link #asSuperuser()} was given
         */
        public ReadRouting build() {
            if (user == null) {
                throw new IllegalStateException("read routing needs credentials: credentials(user, password) for the "
                        + "application's role, or asSuperuser() for the scaler's superuser");
            }
            return new ReadRouting(this);
        }
    }
}
