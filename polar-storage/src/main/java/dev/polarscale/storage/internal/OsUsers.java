package dev.polarscale.storage.internal;

import java.util.Objects;
import java.util.regex.Pattern;

/** Validation of the database OS user: a plain user name, and never {@code root}. */
public final class OsUsers {
    private static final Pattern OS_USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");

    private OsUsers() {
    }

    /**
     * Returns {@code user} if it is a valid OS user name other than {@code root}: PolarDB's files
     * must belong to the user the server runs as, and the server refuses to run as root.
     */
    public static String requireDatabaseUser(String user) {
        Objects.requireNonNull(user, "osUser");
        if (!OS_USER.matcher(user).matches()) {
            throw new IllegalArgumentException("invalid OS user name: '" + user + "'");
        }
        if (user.equals("root")) {
            throw new IllegalArgumentException("the database OS user must not be root: files created as root "
                    + "make the node fail later with 'could not open directory \"global\": Permission denied'");
        }
        return user;
    }
}
