package dev.polarscale.core;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Chooses the OS user database servers run as. PostgreSQL refuses to run as root, so when the
 * executor's user is root, server commands switch to an unprivileged user:
 * <ol>
 *   <li>the one named by system property {@code polarscale.os.user} or environment variable
 *       {@code POLARSCALE_OS_USER};</li>
 *   <li>{@code postgres}, when that user exists (Debian's server packages create it);</li>
 *   <li>otherwise a system user {@code polarscale} (no home, no login shell), created once with
 *       {@code useradd --system}.</li>
 * </ol>
 * Any other user runs servers as itself.
 *
 * <pre>{@code
 * Optional<String> user = OsUsers.serverUser(Executors.local());  // e.g. "postgres" when root
 * }</pre>
 */
public final class OsUsers {
    private static final Logger LOG = LoggerFactory.getLogger(OsUsers.class);

    public static final String USER_PROPERTY = "polarscale.os.user";
    public static final String USER_ENV = "POLARSCALE_OS_USER";
    /** The system user created when the executor is root and no other choice exists. */
    public static final String CREATED_USER = "polarscale";

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private OsUsers() {
    }

    /** The user the executor's commands run as ({@code id -un}). */
    public static String whoami(CommandExecutor executor) {
        return executor.run(Command.of("id", "-un").withTimeout(TIMEOUT)).stdout().strip();
    }

    /**
     * Who runs servers on a host: the executor's login, the server user ({@code empty} when the
     * login runs them itself) and whether that user still has to be created.
     *
     * @param login    the executor's user ({@code id -un})
     * @param user     the OS user server commands switch to, or empty for the login itself
     * @param toCreate whether {@code user} is the {@value #CREATED_USER} system user and does not exist yet
     */
    public record ServerUser(String login, Optional<String> user, boolean toCreate) {
        public ServerUser {
            Objects.requireNonNull(login, "login");
            Objects.requireNonNull(user, "user");
        }
    }

    /**
     * The user to run servers as on this executor's host, or empty to run as the executor's
     * own user. May create the {@value #CREATED_USER} system user (documented above).
     */
    public static Optional<String> serverUser(CommandExecutor executor) {
        ServerUser choice = choose(executor);
        if (choice.toCreate()) {
            create(executor);
        }
        return choice.user();
    }

    /**
     * The choice {@link #serverUser} makes, found with read-only commands ({@code id}): nothing
     * is created. Call {@link #create} when {@link ServerUser#toCreate()} says so.
     */
    public static ServerUser choose(CommandExecutor executor) {
        String self = whoami(executor);
        if (!"root".equals(self)) {
            return new ServerUser(self, Optional.empty(), false);
        }
        String configured = System.getProperty(USER_PROPERTY);
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(USER_ENV);
        }
        if (configured != null && !configured.isBlank()) {
            if ("root".equals(configured)) {
                throw new IllegalArgumentException(USER_PROPERTY + " must name an unprivileged user, not root");
            }
            requireExists(executor, configured);
            return new ServerUser(self, Optional.of(configured), false);
        }
        if (exists(executor, "postgres")) {
            return new ServerUser(self, Optional.of("postgres"), false);
        }
        return new ServerUser(self, Optional.of(CREATED_USER), !exists(executor, CREATED_USER));
    }

    /** Creates the {@value #CREATED_USER} system user on the executor's host unless it exists. */
    public static void create(CommandExecutor executor) {
        LOG.info("{} - creating system user '{}' to run database servers (the executor runs as root)",
                executor.host(), CREATED_USER);
        CommandResult r = executor.execute(Command.of("useradd", "--system", "--no-create-home",
                "--shell", "/usr/sbin/nologin", "--user-group", CREATED_USER).withTimeout(TIMEOUT));
        if (!r.succeeded() && !exists(executor, CREATED_USER)) {
            throw new PolarException(PolarException.Reason.PERMISSION_DENIED, null, executor.host(), null,
                    executor.host() + " - cannot create system user '" + CREATED_USER
                    + "' (exit " + r.exitCode() + "): " + r.stderrTail(5) + "; create an unprivileged user "
                    + "and name it with -D" + USER_PROPERTY + "=<user>", null);
        }
    }

    /**
     * Returns {@code user} if it can run database servers: a valid OS user name, not root
     * (PostgreSQL refuses to run as root, and files made as root break the node later).
     */
    public static String requireServerUser(String user) {
        Objects.requireNonNull(user, "osUser");
        if ("root".equals(user)) {
            throw new IllegalArgumentException("PostgreSQL cannot run as root: choose an unprivileged OS user");
        }
        Command.of("true").asUser(user); // validates the name
        return user;
    }

    /** Whether an OS user exists on the executor's host. */
    public static boolean exists(CommandExecutor executor, String user) {
        return executor.execute(Command.of("id", "-u", "--", user).withTimeout(TIMEOUT)).succeeded();
    }

    private static void requireExists(CommandExecutor executor, String user) {
        if (!exists(executor, user)) {
            throw new PolarException(PolarException.Reason.PERMISSION_DENIED, null, executor.host(), null,
                    "OS user '" + user + "' does not exist on " + executor.host(), null);
        }
    }
}
