package dev.polarscale.core.internal.pg;

import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.OsUsers;

import java.util.Optional;

/**
 * The OS user a node's server commands run as: given, or asked through the executor on first use
 * ({@link OsUsers#serverUser}) and remembered. Empty means the executor's own user, which must
 * not be root.
 */
public final class ServerUser {
    /** How the user is chosen. */
    public enum Mode { AUTO, EXPLICIT, SELF }

    private final String node;
    private final CommandExecutor executor;
    private final Mode mode;
    private volatile Optional<String> user;

    public ServerUser(String node, CommandExecutor executor, Mode mode, String explicit) {
        this.node = node;
        this.executor = executor;
        this.mode = mode;
        this.user = mode == Mode.EXPLICIT ? Optional.of(explicit) : null;
    }

    public Optional<String> get() {
        Optional<String> u = user;
        if (u == null) {
            synchronized (this) {
                u = user;
                if (u == null) {
                    u = resolve();
                    user = u;
                }
            }
        }
        return u;
    }

    private Optional<String> resolve() {
        if (mode == Mode.AUTO) {
            return OsUsers.serverUser(executor);
        }
        if ("root".equals(OsUsers.whoami(executor))) {
            throw new IllegalStateException(node + " - the executor runs as root: name an unprivileged osUser");
        }
        return Optional.empty();
    }
}
