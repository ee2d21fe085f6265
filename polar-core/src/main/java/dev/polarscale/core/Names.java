package dev.polarscale.core;

import dev.polarscale.core.internal.Validate;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The rules for the names and paths PolarScale accepts, each returning its argument when it is
 * valid and throwing an {@link IllegalArgumentException} that names {@code what} and the value
 * otherwise.
 *
 * <pre>{@code
 * String node = Names.requireNodeName("replica-2", "node name");     // ok; its slot is replica_2
 * Names.requireRoleName("polarscale_repl", "replication user");     // ok
 * Names.requireDirectory(Path.of("data"), "data directory");        // IllegalArgumentException: not absolute
 * }</pre>
 */
public final class Names {
    private Names() {
    }

    /** A role or superuser name, {@code [a-z][a-z0-9_]{0,62}}. */
    public static String requireRoleName(String name, String what) {
        return Validate.name(name, what);
    }

    /**
     * A node name: a lower-case letter, then letters, digits, {@code _} or {@code -}, not ending
     * in {@code -}, at most 63 characters ({@code replica-2}, {@code standby_1}). It doubles as the
     * node's {@code application_name}; its slot is {@link SlotName#forNode}.
     */
    public static String requireNodeName(String name, String what) {
        return Validate.nodeName(name, what);
    }

    /** An absolute, normalised path (no {@code .} or {@code ..}), not the root, without control characters. */
    public static Path requireDirectory(Path dir, String what) {
        return Validate.directory(dir, what);
    }

    /** A positive duration (a timeout, a wait). */
    public static Duration requirePositive(Duration d, String what) {
        return Validate.positive(d, what);
    }
}
