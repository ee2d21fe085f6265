package dev.polarscale.storage.internal;

import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Checks for paths that end up in a {@code postgresql.conf} value, a PFS command or an argument
 * of {@code polar-initdb.sh} (a shell script that does not quote its variables): absolute,
 * already normalised, and made only of {@code [A-Za-z0-9_.+@-]} components. A path outside
 * that set is rejected, never rewritten.
 */
public final class SafePaths {
    private static final Pattern COMPONENT = Pattern.compile("[A-Za-z0-9_.+@-]{1,255}");

    private SafePaths() {
    }

    /** Returns {@code path} if it is absolute, normalised, not {@code /} and made of safe components. */
    public static Path requireSafeAbsolute(Path path, String what) {
        Objects.requireNonNull(path, what);
        if (!path.isAbsolute()) {
            throw new IllegalArgumentException(what + " must be an absolute path: " + path);
        }
        if (!path.normalize().equals(path)) {
            throw new IllegalArgumentException(what + " must be normalised (no '.' or '..'): " + path);
        }
        if (path.getNameCount() == 0) {
            throw new IllegalArgumentException(what + " must not be the root directory");
        }
        for (Path c : path) {
            if (!COMPONENT.matcher(c.toString()).matches() || c.toString().equals(".")
                    || c.toString().equals("..")) {
                throw new IllegalArgumentException(what + " has a component outside [A-Za-z0-9_.+@-]: '"
                        + c + "' in " + path);
            }
        }
        return path;
    }

    /** {@code path} as a string with exactly one trailing {@code /}, the form polar-initdb.sh demands. */
    public static String withTrailingSlash(Path path) {
        return path + "/";
    }

    /** Returns {@code rel} if it is a relative path of safe components ({@code global/pg_control}). */
    public static String requireRelative(String rel) {
        Objects.requireNonNull(rel, "relative path");
        if (rel.isEmpty() || rel.startsWith("/") || rel.endsWith("/")) {
            throw new IllegalArgumentException("expected a relative file path: '" + rel + "'");
        }
        for (String c : rel.split("/", -1)) {
            if (!COMPONENT.matcher(c).matches() || c.equals(".") || c.equals("..")) {
                throw new IllegalArgumentException("relative path has a component outside [A-Za-z0-9_.+@-]: '"
                        + c + "' in " + rel);
            }
        }
        return rel;
    }
}
