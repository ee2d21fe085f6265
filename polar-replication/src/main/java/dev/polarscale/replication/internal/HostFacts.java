package dev.polarscale.replication.internal;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.OsUsers;
import dev.polarscale.core.PgBinaries;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What PolarScale needs to know about one host, asked through that host's executor when an
 * operation first needs it and remembered for the life of the scaler: who runs the servers, where
 * the server programs are, which of them exist. Values the {@code ClusterSpec} gives are taken as
 * they are, without asking. Asking never changes the host; {@link #ensureServerUser()} is the one
 * call that may (it creates the {@code polarscale} system user when the login is root and no
 * other user fits).
 */
public final class HostFacts {
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(30);
    /** Finds server programs on a host that PolarScale was not told about. */
    private static final String LOCATE = "d=$(pg_config --bindir 2>/dev/null) && [ -x \"$d/postgres\" ] "
            + "&& { echo \"$d\"; exit 0; }; "
            + "for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do "
            + "[ -x \"$d/postgres\" ] && { echo \"$d\"; exit 0; }; done; "
            + "p=$(command -v postgres 2>/dev/null) && { echo \"${p%/postgres}\"; exit 0; }; exit 1";

    private final String host;
    private final CommandExecutor executor;
    private final PgInstallation configuredInstallation;
    private final String configuredUser;
    private final boolean local;
    private final Map<String, Boolean> tools = new ConcurrentHashMap<>();
    private volatile OsUsers.ServerUser serverUser;
    private volatile PgInstallation installation;

    /**
     * @param local whether the host is this machine (a loopback address), where binaries are also
     *              looked for the way {@link PgBinaries#locate()} does (embedded ones included)
     */
    HostFacts(String host, CommandExecutor executor, Optional<PgInstallation> installation, Optional<String> osUser,
              boolean local) {
        this.host = host;
        this.executor = executor;
        this.configuredInstallation = installation.orElse(null);
        this.configuredUser = osUser.orElse(null);
        this.local = local;
    }

    public String host() {
        return host;
    }

    public CommandExecutor executor() {
        return executor;
    }

    /** The OS user server commands switch to; empty when the login runs them itself (it is not root). */
    public Optional<String> serverUser() {
        if (configuredUser != null) {
            return Optional.of(configuredUser);
        }
        return choice().user();
    }

    /** The OS user the servers run as: {@link #serverUser()}, or the executor's login. */
    public String runsAs() {
        return serverUser().orElseGet(() -> choice().login());
    }

    /** Whether the server user still has to be created ({@link #ensureServerUser()}). */
    public boolean serverUserToCreate() {
        return configuredUser == null && choice().toCreate();
    }

    /** Creates the server user if it has to be; idempotent. */
    public synchronized void ensureServerUser() {
        if (serverUserToCreate()) {
            OsUsers.create(executor);
            serverUser = new OsUsers.ServerUser(serverUser.login(), serverUser.user(), false);
        }
    }

    private OsUsers.ServerUser choice() {
        OsUsers.ServerUser u = serverUser;
        if (u == null) {
            synchronized (this) {
                u = serverUser;
                if (u == null) {
                    u = OsUsers.choose(executor);
                    serverUser = u;
                }
            }
        }
        return u;
    }

    /**
     * The server programs on this host: the configured installation, else what the host has
     * ({@code pg_config --bindir}, {@code /usr/lib/postgresql/<newest>/bin}, {@code postgres} on
     * the PATH; on this machine also {@link PgBinaries#locate()}).
     *
     * @throws PolarException {@link PolarException.Reason#BINARIES_MISSING} when there are none
     */
    public PgInstallation installation() {
        PgInstallation i = installation;
        if (i == null) {
            synchronized (this) {
                i = installation;
                if (i == null) {
                    i = locate();
                    installation = i;
                }
            }
        }
        return i;
    }

    private PgInstallation locate() {
        if (configuredInstallation != null) {
            return configuredInstallation;
        }
        if (local) {
            return PgBinaries.locate();
        }
        CommandResult r = executor.execute(Command.of("sh", "-c", LOCATE).withTimeout(PROBE_TIMEOUT));
        String dir = r.stdout().strip();
        if (!r.succeeded() || dir.isEmpty() || !dir.startsWith("/")) {
            throw new PolarException(PolarException.Reason.BINARIES_MISSING, null, host, null, host
                    + " - no PostgreSQL server programs found (pg_config --bindir, /usr/lib/postgresql/*/bin, "
                    + "postgres on the PATH): install them or name them with ClusterSpec.Builder.installation", null);
        }
        return new PgInstallation(Path.of(dir));
    }

    /** Whether the installation has this program on this host ({@code test -x}, asked once). */
    public boolean has(String program) {
        Path tool = installation().tool(program);
        return tools.computeIfAbsent(program, p -> executor.execute(Command.of("test", "-x", tool.toString())
                .withTimeout(PROBE_TIMEOUT)).succeeded());
    }

    /**
     * Requires the named programs on this host.
     *
     * @throws PolarException {@link PolarException.Reason#BINARIES_MISSING} naming what is missing
     */
    public void require(String node, String why, String... programs) {
        for (String p : programs) {
            if (!has(p)) {
                throw new PolarException(PolarException.Reason.BINARIES_MISSING, node, host, null, node + " - "
                        + why + ": " + installation().tool(p) + " does not exist on " + host, null);
            }
        }
    }
}
