package dev.polarscale.core.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/** The name and path rules behind {@code PostgresNode.requireName} and its siblings. */
public final class Validate {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,62}");
    private static final Pattern NODE_NAME = Pattern.compile("[a-z]([a-z0-9_-]{0,61}[a-z0-9_])?");

    private Validate() {
    }

    public static String name(String name, String what) {
        Objects.requireNonNull(name, what);
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid " + what + " '" + name + "': must match [a-z][a-z0-9_]{0,62}");
        }
        return name;
    }

    public static String nodeName(String name, String what) {
        Objects.requireNonNull(name, what);
        if (!NODE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid " + what + " '" + name
                    + "': must match [a-z]([a-z0-9_-]{0,61}[a-z0-9_])?");
        }
        return name;
    }

    public static Path directory(Path dir, String what) {
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
            throw new IllegalArgumentException(what + " contains a control character: "
                    + s.replaceAll("\\p{Cntrl}", "?"));
        }
        return dir;
    }

    public static Duration positive(Duration t, String what) {
        Objects.requireNonNull(t, what);
        if (t.isNegative() || t.isZero()) {
            throw new IllegalArgumentException(what + " must be positive: " + t);
        }
        return t;
    }
}
