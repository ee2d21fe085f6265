package dev.polarscale.core;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;

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
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,62}");
    private static final int STATUS_STOPPED = 3;
    private static final int STATUS_NO_DIR = 4;

    private final String name;
    private final PgInstallation installation;
    private final CommandExecutor executor;
    private final Path dataDirectory;
    private final Port port;
    private final UserMode userMode;
    private final String explicitUser;
    /** The OS user once known: resolved through the executor on first use unless given. */
    private volatile Optional<String> osUser;
    private final String superuser;
    private final String password;
    private final String jdbcHost;
    private final Duration startTimeout;
    private final Duration stopTimeout;

    private PostgresNode(Builder b) {
        this.name = b.name;
        this.installation = b.installation;
        this.executor = b.executor;
        this.dataDirectory = b.dataDirectory;
        this.port = b.port;
        this.userMode = b.userMode;
        this.explicitUser = b.osUser;
        this.osUser = b.userMode == UserMode.EXPLICIT ? Optional.of(b.osUser) : null;
        this.superuser = b.superuser;
        this.password = b.password;
        this.jdbcHost = b.jdbcHost;
        this.startTimeout = b.startTimeout;
        this.stopTimeout = b.stopTimeout;
    }

    /** How the OS user of server commands is chosen. */
    private enum UserMode { AUTO, EXPLICIT, SELF }

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
        Optional<String> u = osUser;
        if (u == null) {
            synchronized (this) {
                u = osUser;
                if (u == null) {
                    u = resolveOsUser();
                    osUser = u;
                }
            }
        }
        return u;
    }

    private Optional<String> resolveOsUser() {
        if (userMode == UserMode.AUTO) {
            return OsUsers.serverUser(executor);
        }
        if ("root".equals(OsUsers.whoami(executor))) {
            throw new IllegalStateException(name + " - the executor runs as root: name an unprivileged osUser");
        }
        return Optional.empty();
    }

    /** {@code c} as the server's OS user. */
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
        Command c = Command.of(argv).withSecret(password);
        return asServerUser(c);
    }

    /**
     * Creates the data directory (mode 0700, owned by the OS user) and runs {@code initdb} with
     * UTF-8, the superuser and its password, {@code scram-sha-256} for TCP and {@code peer}
     * locally. Refuses a directory that already holds a cluster.
     */
    public void initdb() {
        long t0 = System.nanoTime();
        if (status() != NodeState.NO_DATA_DIRECTORY) {
            throw new PolarException(PolarException.Reason.DATA_DIRECTORY_EXISTS, name, executor.host(), null,
                    name + " - data directory " + dataDirectory + " already holds a cluster", null);
        }
        createDirectory(dataDirectory);
        // The password reaches initdb through a file in a private temp dir of the OS user, never argv.
        Command write = Command.of("sh", "-c", "umask 077 && d=$(mktemp -d) && cat > \"$d/pw\" && echo \"$d\"")
                .withStdin(password + "\n").withSecret(password).withTimeout(Duration.ofSeconds(30));
        String pwdir = executor.run(asServerUser(write)).stdout().strip();
        try {
            executor.run(serverCommand("initdb", "-D", dataDirectory.toString(), "-U", superuser,
                    "--pwfile=" + pwdir + "/pw", "-E", "UTF8", "--locale=C", "--auth-host=scram-sha-256",
                    "--auth-local=peer", "--no-sync").withTimeout(Duration.ofMinutes(5)));
        } finally {
            Command rm = Command.of("rm", "-rf", "--", pwdir).withTimeout(Duration.ofSeconds(30));
            executor.execute(asServerUser(rm));
        }
        LOG.info("{} - initdb {} in {} ms", name, dataDirectory, millisSince(t0));
    }

    /**
     * Creates a directory (and parents) with mode 0700, owned by the node's OS user; idempotent.
     * Switches to root only when the OS user differs from the executor's and cannot do it itself.
     */
    public void createDirectory(Path dir) {
        Command mk = Command.of("mkdir", "-p", "-m", "0700", "--", dir.toString()).withTimeout(Duration.ofSeconds(30));
        Optional<String> user = osUser();
        if (user.isEmpty()) {
            executor.run(mk);
            return;
        }
        CommandResult asUser = executor.execute(mk.asUser(user.get()));
        if (!asUser.succeeded()) {
            executor.run(mk.privileged());
            executor.run(Command.of("chown", "--", user.get(), dir.toString()).privileged()
                    .withTimeout(Duration.ofSeconds(30)));
        }
    }

    /** {@code pg_ctl status}. */
    public NodeState status() {
        CommandResult r = executor.execute(serverCommand("pg_ctl", "status", "-D", dataDirectory.toString())
                .withTimeout(Duration.ofSeconds(30)));
        return switch (r.exitCode()) {
            case 0 -> postmasterDefunct() ? NodeState.STOPPED : NodeState.RUNNING;
            case STATUS_STOPPED -> NodeState.STOPPED;
            case STATUS_NO_DIR -> NodeState.NO_DATA_DIRECTORY;
            default -> throw new CommandFailedException(executor.host(), List.of("pg_ctl", "status"), r,
                    name + " - pg_ctl status failed with exit " + r.exitCode() + ": " + r.stderrTail(5));
        };
    }

    /**
     * Whether the PID in {@code postmaster.pid} is a zombie: a postmaster killed with SIGKILL
     * whose parent (here often a PID 1 that does not reap) has not collected it. {@code pg_ctl}
     * takes such a PID for a live server and waits in vain for it to stop.
     */
    private boolean postmasterDefunct() {
        String script = "pid=$(head -n 1 \"$1/postmaster.pid\" 2>/dev/null) && [ -n \"$pid\" ] && "
                + "ps -o stat= -p \"$pid\" | grep -q '^Z'";
        Command c = Command.of("sh", "-c", script, "sh", dataDirectory.toString()).withTimeout(Duration.ofSeconds(30));
        return executor.execute(asServerUser(c)).succeeded();
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
        long secs = Math.max(1, startTimeout.toSeconds());
        // pg_ctl hands -o to /bin/sh: the port is a number and the socket directory is quoted.
        String serverOptions = "-p " + port + " -k " + ShellQuoting.quote(dataDirectory.toString());
        Command start = serverCommand("pg_ctl", "start", "-D", dataDirectory.toString(), "-l", startupLog().toString(),
                "-o", serverOptions, "-w", "-t", Long.toString(secs)).withTimeout(startTimeout.plusSeconds(30));
        CommandResult r;
        try {
            r = executor.execute(start);
        } catch (CommandTimeoutException e) {
            throw new NodeStartupException(name, "pg_ctl start timed out", logTail(40), e);
        }
        if (!r.succeeded()) {
            throw new NodeStartupException(name, "pg_ctl start failed (exit " + r.exitCode() + ") on port " + port
                    + ": " + r.stderrTail(5).strip(), logTail(40));
        }
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
        long deadline = System.nanoTime() + timeout.toNanos();
        SQLException last = null;
        int tries = 0;
        while (true) {
            try (Connection c = connect(Duration.ofSeconds(2)); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT version()")) {
                rs.next();
                return rs.getString(1);
            } catch (SQLException e) {
                last = e;
            }
            if (++tries % 25 == 0 && status() != NodeState.RUNNING) {
                throw new NodeStartupException(name, "server exited before answering on port " + port, logTail(40), last);
            }
            if (System.nanoTime() > deadline) {
                throw new NodeStartupException(name, "server did not answer on port " + port + " within "
                        + timeout.toMillis() + " ms: " + last.getMessage(), logTail(40), last);
            }
            sleep(Duration.ofMillis(20));
        }
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

    /** Stops the server with the given mode and waits for it; idempotent. */
    public void stop(StopMode mode) {
        long t0 = System.nanoTime();
        NodeState state = status();
        if (state != NodeState.RUNNING) {
            LOG.debug("{} - stop: not running ({})", name, state);
            return;
        }
        long secs = Math.max(1, stopTimeout.toSeconds());
        executor.run(serverCommand("pg_ctl", "stop", "-D", dataDirectory.toString(), "-m", mode.arg, "-w", "-t",
                Long.toString(secs)).withTimeout(stopTimeout.plusSeconds(30)));
        LOG.info("{} - stopped ({}) in {} ms", name, mode.arg, millisSince(t0));
    }

    /** Removes the data directory (the server must be stopped). Idempotent. */
    public void deleteDataDirectory() {
        if (status() == NodeState.RUNNING) {
            throw new IllegalStateException(name + " - cannot delete " + dataDirectory + " while the server runs");
        }
        Command rm = Command.of("rm", "-rf", "--", dataDirectory.toString()).withTimeout(Duration.ofMinutes(5));
        CommandResult r = executor.execute(asServerUser(rm));
        if (!r.succeeded()) {
            executor.run(rm.privileged());
        }
    }

    /**
     * Reads a file of the data directory through the executor, as the OS user.
     *
     * @param relative a path inside the data directory, e.g. {@code postgresql.conf}
     */
    public String readFile(String relative) {
        Command cat = Command.of("cat", "--", insideDataDirectory(relative).toString())
                .withTimeout(Duration.ofSeconds(30));
        return executor.run(asServerUser(cat)).stdout();
    }

    /**
     * Replaces a file of the data directory through the executor, as the OS user, with mode
     * 0600: written to a temporary name first, then renamed, so a reader never sees half a file.
     * {@code secrets} (e.g. a password in a {@code .pgpass} line) are masked in any error.
     */
    public void writeFile(String relative, String content, String... secrets) {
        Path target = insideDataDirectory(relative);
        Command write = Command.of("sh", "-c", "umask 077 && cat > \"$1.polarscale-tmp\" && mv -f -- "
                        + "\"$1.polarscale-tmp\" \"$1\"", "sh", target.toString())
                .withStdin(content).withSecret(password).withTimeout(Duration.ofSeconds(30));
        for (String secret : secrets) {
            write = write.withSecret(secret);
        }
        executor.run(asServerUser(write));
    }

    /** Whether a file or directory exists inside the data directory. */
    public boolean fileExists(String relative) {
        Command test = Command.of("test", "-e", insideDataDirectory(relative).toString())
                .withTimeout(Duration.ofSeconds(30));
        CommandResult r = executor.execute(asServerUser(test));
        return r.succeeded();
    }

    private Path insideDataDirectory(String relative) {
        Objects.requireNonNull(relative, "relative");
        Path p = dataDirectory.resolve(relative).normalize();
        if (relative.isEmpty() || !p.startsWith(dataDirectory) || p.equals(dataDirectory)) {
            throw new IllegalArgumentException(name + " - not a file inside the data directory: '" + relative + "'");
        }
        return p;
    }

    /** A new JDBC connection as the superuser. */
    public Connection connect() throws SQLException {
        return connect(Duration.ofSeconds(10));
    }

    public Connection connect(Duration connectTimeout) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", superuser);
        p.setProperty("password", password);
        int secs = (int) Math.max(1, connectTimeout.toSeconds());
        p.setProperty("connectTimeout", Integer.toString(secs));
        p.setProperty("loginTimeout", Integer.toString(secs));
        p.setProperty("socketTimeout", "300");
        p.setProperty("ApplicationName", "polarscale");
        return DriverManager.getConnection(jdbcUrl(), p);
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
        String script = "for f in \"$1/pg_ctl.log\" $(ls -1t \"$1\"/pg_log/*_error.log \"$1\"/pg_log/*.log "
                + "\"$1\"/log/*.log 2>/dev/null | head -n 2); do "
                + "[ -f \"$f\" ] && { echo \"==> $f <==\"; tail -n \"$2\" \"$f\"; }; done; true";
        Command c = Command.of("sh", "-c", script, "sh", dataDirectory.toString(), Integer.toString(lines))
                .withTimeout(Duration.ofSeconds(30));
        try {
            CommandResult r = executor.execute(asServerUser(c));
            return r.stdout().strip();
        } catch (PolarException e) {
            return "(server log unreadable: " + e.getMessage() + ")";
        }
    }

    @Override
    public String toString() {
        return "PostgresNode[" + name + " " + executor.host() + ":" + port + " " + dataDirectory
                + (userMode == UserMode.EXPLICIT ? " as " + explicitUser : "") + "]";
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PolarException(PolarException.Reason.INTERRUPTED, "interrupted while waiting", e);
        }
    }

    /**
     * Returns {@code name} if it is a valid node, role or slot-like name,
     * {@code [a-z][a-z0-9_]{0,62}}; otherwise an exception naming {@code what} and the value.
     */
    public static String requireName(String name, String what) {
        Objects.requireNonNull(name, what);
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid " + what + " '" + name + "': must match [a-z][a-z0-9_]{0,62}");
        }
        return name;
    }

    /**
     * Returns {@code dir} if it is absolute, normalised (no {@code .} or {@code ..}), not the
     * root and free of control characters; otherwise an exception naming {@code what}.
     */
    public static Path requireDirectory(Path dir, String what) {
        Objects.requireNonNull(dir, what);
        String s = dir.toString();
        if (!dir.isAbsolute()) {
            throw new IllegalArgumentException(what + " must be absolute: " + dir);
        }
        if (!dir.normalize().toString().equals(s) || s.contains("/../") || s.endsWith("/..")) {
            throw new IllegalArgumentException(what + " must be normalised (no '.' or '..'): " + dir);
        }
        if (dir.getParent() == null) {
            throw new IllegalArgumentException(what + " must not be the root directory");
        }
        if (s.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException(what + " contains a control character: " + s.replaceAll("\\p{Cntrl}", "?"));
        }
        return dir;
    }

    /** Builds a {@link PostgresNode}; each call validates its argument at once. */
    public static final class Builder {

        private String name;
        private PgInstallation installation;
        private CommandExecutor executor;
        private Path dataDirectory;
        private Port port;
        private String osUser;
        private UserMode userMode = UserMode.AUTO;
        private String superuser = "postgres";
        private String password;
        private String jdbcHost = "127.0.0.1";
        private Duration startTimeout = Duration.ofSeconds(60);
        private Duration stopTimeout = Duration.ofSeconds(60);

        private Builder() {
        }

        /** The node's name: {@code [a-z][a-z0-9_]{0,62}}, used in logs and as its slot name. */
        public Builder name(String name) {
            this.name = requireName(name, "node name");
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
            this.dataDirectory = requireDirectory(dir, "data directory");
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
            this.userMode = UserMode.EXPLICIT;
            return this;
        }

        /**
         * Runs server commands as the executor's own user; only valid when that is not root, which
         * is checked through the executor on first use.
         */
        public Builder runAsExecutorUser() {
            this.osUser = null;
            this.userMode = UserMode.SELF;
            return this;
        }

        /** {@link #osUser(String)} when present, else {@link #runAsExecutorUser()}. */
        public Builder osUserOrSelf(Optional<String> user) {
            Objects.requireNonNull(user, "user");
            return user.isPresent() ? osUser(user.get()) : runAsExecutorUser();
        }

        public Builder superuser(String superuser) {
            this.superuser = requireName(superuser, "superuser name");
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
            this.startTimeout = positive(t, "startTimeout");
            return this;
        }

        public Builder stopTimeout(Duration t) {
            this.stopTimeout = positive(t, "stopTimeout");
            return this;
        }

        private static Duration positive(Duration t, String what) {
            Objects.requireNonNull(t, what);
            if (t.isNegative() || t.isZero()) {
                throw new IllegalArgumentException(what + " must be positive: " + t);
            }
            return t;
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
