package dev.polarscale.core;

import dev.polarscale.core.internal.Validate;
import dev.polarscale.core.internal.pg.DataDirectoryOps;
import dev.polarscale.core.internal.pg.Readiness;
import dev.polarscale.core.internal.pg.ServerUser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One database server process and its data directory on a host: {@code initdb},
 * {@code pg_ctl start|stop|status} and readiness through a real JDBC {@code SELECT version()}.
 * Every command goes through the node's {@link CommandExecutor} as the node's OS user, so the
 * same code drives a local, SSH or container host.
 *
 * <pre>{@code
 * PostgresNode node = PostgresNode.builder()
 *         .name("primary")
 *         .installation(PgBinaries.locate())
 *         .dataDirectory(Path.of("/srv/polar/primary"))
 *         .port(5432)
 *         .build();                         // runs nothing; as root, OsUsers.serverUser(...) on first use
 * node.initdb();
 * node.start();                             // NodeStartupException with the server log tail
 * try (Connection c = node.connect()) { ... }
 * node.stop();
 * }</pre>
 *
 * <p>The node's port and Unix socket directory (its data directory) are given to the server on
 * its command line, so they hold whatever the configuration file says.
 *
 * <p>{@link #initdb()} sets a random superuser password and {@code scram-sha-256} for TCP
 * connections ({@code peer} for the Unix socket), never {@code trust}.
 */
public final class PostgresNode {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresNode.class);

    private final String name;
    private final PgInstallation installation;
    private final CommandExecutor executor;
    private final Path dataDirectory;
    private final Port port;
    private final ServerUser.Mode userMode;
    private final String explicitUser;
    private final ServerUser user;
    private final String superuser;
    private final String password;
    private final String jdbcHost;
    private final Duration startTimeout;
    private final Duration stopTimeout;
    private final DataDirectoryOps ops;

    private PostgresNode(Builder b) {
        this.name = b.name;
        this.installation = b.installation;
        this.executor = b.executor;
        this.dataDirectory = b.dataDirectory;
        this.port = b.port;
        this.userMode = b.userMode;
        this.explicitUser = b.osUser;
        this.user = new ServerUser(name, executor, b.userMode, b.osUser);
        this.superuser = b.superuser;
        this.password = b.password;
        this.jdbcHost = b.jdbcHost;
        this.startTimeout = b.startTimeout;
        this.stopTimeout = b.stopTimeout;
        this.ops = new DataDirectoryOps(name, executor, dataDirectory, installation.tool("pg_ctl"), this::asServerUser);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this node's settings, to derive a similar node. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.name = name;
        b.installation = installation;
        b.executor = executor;
        b.dataDirectory = dataDirectory;
        b.port = port;
        b.osUser = explicitUser;
        b.userMode = userMode;
        b.superuser = superuser;
        b.password = password;
        b.jdbcHost = jdbcHost;
        b.startTimeout = startTimeout;
        b.stopTimeout = stopTimeout;
        return b;
    }

    public String name() {
        return name;
    }

    public PgInstallation installation() {
        return installation;
    }

    public CommandExecutor executor() {
        return executor;
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    public Port port() {
        return port;
    }

    /**
     * The OS user server commands run as; empty when they run as the executor's own user. Unless
     * the builder named one, the first call (or the first command) asks the host through the
     * executor ({@link OsUsers#serverUser}) and remembers the answer.
     */
    public Optional<String> osUser() {
        return user.get();
    }

    private Command asServerUser(Command c) {
        Optional<String> u = osUser();
        return u.isEmpty() ? c : c.asUser(u.get());
    }

    public String superuser() {
        return superuser;
    }

    /** The superuser's password (a secret: never logged). */
    public String password() {
        return password;
    }

    public String jdbcHost() {
        return jdbcHost;
    }

    /** {@code jdbc:postgresql://host:port/postgres}. */
    public String jdbcUrl() {
        return jdbcUrl("postgres");
    }

    public String jdbcUrl(String database) {
        String host = jdbcHost.contains(":") ? "[" + jdbcHost + "]" : jdbcHost;
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /** A command running one of this installation's programs as the node's OS user. */
    public Command serverCommand(String program, String... args) {
        List<String> argv = new ArrayList<>();
        argv.add(installation.tool(program).toString());
        argv.addAll(List.of(args));
        return asServerUser(Command.of(argv).withSecret(password));
    }

    /**
     * Creates the data directory (mode 0700, owned by the OS user) and runs {@code initdb} with
     * UTF-8, the superuser and its password, {@code scram-sha-256} for TCP and {@code peer}
     * locally. Refuses a directory that already holds a cluster
     * ({@link PolarException.Reason#DATA_DIRECTORY_EXISTS}).
     */
    public void initdb() {
        long t0 = System.nanoTime();
        if (status() != NodeState.NO_DATA_DIRECTORY) {
            throw new PolarException(PolarException.Reason.DATA_DIRECTORY_EXISTS, name, executor.host(), null,
                    name + " - data directory " + dataDirectory + " already holds a cluster", null);
        }
        createDirectory(dataDirectory);
        ops.initdb(installation.tool("initdb"), superuser, password);
        LOG.info("{} - initdb {} in {} ms", name, dataDirectory, millisSince(t0));
    }

    /**
     * Creates a directory (and parents) with mode 0700, owned by the node's OS user; idempotent.
     * Switches to root only when the OS user differs from the executor's and cannot do it itself.
     */
    public void createDirectory(Path dir) {
        ops.createDirectory(dir, osUser());
    }

    /** {@code pg_ctl status}; a postmaster killed with SIGKILL and never reaped counts as stopped. */
    public NodeState status() {
        return ops.status(password);
    }

    /**
     * Starts the server and waits until it answers {@code SELECT version()} over JDBC. A server
     * that already runs on the data directory is only checked, so a repeated start is harmless.
     *
     * @return the server's version string
     * @throws NodeStartupException the server did not start or answer within the start timeout;
     *                              the message ends with the tail of the server log
     */
    public String start() {
        long t0 = System.nanoTime();
        if (status() == NodeState.RUNNING) {
            LOG.debug("{} - start: already running", name);
            return awaitReady(startTimeout);
        }
        ops.start(port.value(), startTimeout, password);
        String version = awaitReady(startTimeout);
        LOG.info("{} - started on port {} in {} ms", name, port, millisSince(t0));
        return version;
    }

    /**
     * Polls {@code SELECT version()} until it answers, failing fast if the server process exits.
     *
     * @return the version string
     */
    public String awaitReady(Duration timeout) {
        return Readiness.await(name, port.value(), timeout, this::connect, this::status, this::logTail);
    }

    /** Stops the server ({@code -m fast}); does nothing when it is not running. */
    public void stop() {
        stop(StopMode.FAST);
    }

    /** How {@link #stop(StopMode)} shuts the server down ({@code pg_ctl -m}). */
    public enum StopMode {
        SMART("smart"), FAST("fast"), IMMEDIATE("immediate");

        private final String arg;

        StopMode(String arg) {
            this.arg = arg;
        }
    }

    /** Stops the server with the given mode and waits for it; idempotent (one command when running). */
    public void stop(StopMode mode) {
        long t0 = System.nanoTime();
        if (ops.stop(mode.arg, stopTimeout, password)) {
            LOG.info("{} - stopped ({}) in {} ms", name, mode.arg, millisSince(t0));
        } else {
            LOG.debug("{} - stop: not running", name);
        }
    }

    /**
     * Removes the data directory; idempotent.
     *
     * @throws IllegalStateException the server still runs on it
     */
    public void deleteDataDirectory() {
        ops.delete(password);
    }

    /**
     * Reads a file of the data directory through the executor, as the OS user.
     *
     * @param relative a path inside the data directory, e.g. {@code postgresql.conf}
     */
    public String readFile(String relative) {
        return ops.read(relative);
    }

    /**
     * Replaces a file of the data directory through the executor, as the OS user, with mode
     * 0600: written to a temporary name first, then renamed, so a reader never sees half a file.
     * {@code secrets} (e.g. a password in a {@code .pgpass} line) are masked in any error.
     */
    public void writeFile(String relative, String content, String... secrets) {
        List<String> all = new ArrayList<>(List.of(secrets));
        all.add(password);
        ops.write(relative, content, all);
    }

    /** Whether a file or directory exists inside the data directory. */
    public boolean fileExists(String relative) {
        return ops.exists(relative);
    }

    /** A new JDBC connection as the superuser. */
    public Connection connect() throws SQLException {
        return connect(Duration.ofSeconds(10));
    }

    public Connection connect(Duration connectTimeout) throws SQLException {
        return Readiness.connect(jdbcUrl(), superuser, password, connectTimeout);
    }

    /** Where {@code pg_ctl -l} writes the server's output until the logging collector takes over. */
    public Path startupLog() {
        return dataDirectory.resolve("pg_ctl.log");
    }

    /**
     * The last lines of the server's logs: the {@code pg_ctl -l} file and, where the logging
     * collector is on, the newest files in {@code pg_log/} or {@code log/} (PolarDB writes
     * errors to {@code *_error.log}). Best effort: returns what can be read.
     */
    public String logTail(int lines) {
        return ops.logTail(lines);
    }

    @Override
    public String toString() {
        return "PostgresNode[" + name + " " + executor.host() + ":" + port + " " + dataDirectory
                + (userMode == ServerUser.Mode.EXPLICIT ? " as " + explicitUser : "") + "]";
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** Builds a {@link PostgresNode}; each call validates its argument at once. */
    public static final class Builder {

        private String name;
        private PgInstallation installation;
        private CommandExecutor executor;
        private Path dataDirectory;
        private Port port;
        private String osUser;
        private ServerUser.Mode userMode = ServerUser.Mode.AUTO;
        private String superuser = "postgres";
        private String password;
        private String jdbcHost = "127.0.0.1";
        private Duration startTimeout = Duration.ofSeconds(60);
        private Duration stopTimeout = Duration.ofSeconds(60);

        private Builder() {
        }

        /** The node's name ({@link Names#requireNodeName}), used in logs and for its slot name. */
        public Builder name(String name) {
            this.name = Validate.nodeName(name, "node name");
            return this;
        }

        public Builder installation(PgInstallation installation) {
            this.installation = Objects.requireNonNull(installation, "installation");
            return this;
        }

        public Builder executor(CommandExecutor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** Absolute, normalised path without {@code ..} or control characters. */
        public Builder dataDirectory(Path dir) {
            this.dataDirectory = Validate.directory(dir, "data directory");
            return this;
        }

        public Builder port(int port) {
            this.port = Port.of(port);
            return this;
        }

        public Builder port(Port port) {
            this.port = Objects.requireNonNull(port, "port");
            return this;
        }

        /**
         * Runs server commands as this OS user (never root). Default: the user
         * {@link OsUsers#serverUser} chooses on the executor's host, asked on first use.
         */
        public Builder osUser(String user) {
            this.osUser = OsUsers.requireServerUser(user);
            this.userMode = ServerUser.Mode.EXPLICIT;
            return this;
        }

        /**
         * Runs server commands as the executor's own user; only valid when that is not root, which
         * is checked through the executor on first use.
         */
        public Builder runAsExecutorUser() {
            this.osUser = null;
            this.userMode = ServerUser.Mode.SELF;
            return this;
        }

        /** {@link #osUser(String)} when present, else {@link #runAsExecutorUser()}. */
        public Builder osUserOrSelf(Optional<String> user) {
            Objects.requireNonNull(user, "user");
            return user.isPresent() ? osUser(user.get()) : runAsExecutorUser();
        }

        public Builder superuser(String superuser) {
            this.superuser = Validate.name(superuser, "superuser name");
            return this;
        }

        /** The superuser's password; a random one is generated when not set. */
        public Builder password(String password) {
            this.password = Secrets.requirePassword(password, "password");
            return this;
        }

        /** The address JDBC connects to; default {@code 127.0.0.1}. */
        public Builder jdbcHost(String host) {
            Objects.requireNonNull(host, "jdbcHost");
            if (host.isBlank() || host.chars().anyMatch(ch -> ch <= ' ' || ch == '/' || ch == '?' || ch == '@')) {
                throw new IllegalArgumentException("invalid host: '" + host + "'");
            }
            this.jdbcHost = host;
            return this;
        }

        public Builder startTimeout(Duration t) {
            this.startTimeout = Validate.positive(t, "startTimeout");
            return this;
        }

        public Builder stopTimeout(Duration t) {
            this.stopTimeout = Validate.positive(t, "stopTimeout");
            return this;
        }

        public PostgresNode build() {
            if (name == null) {
                throw new IllegalStateException("name is required");
            }
            if (dataDirectory == null) {
                throw new IllegalStateException(name + " - dataDirectory is required");
            }
            if (port == null) {
                throw new IllegalStateException(name + " - port is required");
            }
            if (installation == null) {
                throw new IllegalStateException(name + " - installation is required (PgBinaries.locate() finds one "
                        + "on this machine)");
            }
            if (executor == null) {
                executor = Executors.local();
            }
            if (password == null) {
                password = Secrets.randomPassword();
            }
            return new PostgresNode(this);
        }
    }
}
