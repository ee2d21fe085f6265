package dev.polarscale.core.internal.conf;

import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What {@code postgresql.conf} accepts, after PostgreSQL's {@code guc-file.l}: parameter names
 * are identifiers with at most one dot, and a quoted value is read like an {@code E''} string
 * ({@code \\} and {@code \t}, {@code \n}, {@code \b}, {@code \f}, {@code \r}, octal escapes are
 * decoded, {@code ''} is one quote; a raw line break ends the line and is a syntax error).
 *
 * <p>So a value is written with {@code \} as {@code \\}, {@code '} as {@code ''} and TAB as
 * {@code \t}. Every other control character (line breaks and NUL included) is rejected rather
 * than escaped: no setting PolarScale writes needs one, and a line break in a value is how a
 * second, unintended setting gets into the file.
 */
public final class GucSyntax {
    private static final Pattern NAME =
            Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");
    /** Config-file directives that look like parameters but pull in other files. */
    private static final Set<String> DIRECTIVES = Set.of("include", "include_dir", "include_if_exists");

    private GucSyntax() {
    }

    public static String checkName(String name) {
        Objects.requireNonNull(name, "parameter name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid configuration parameter name '" + printable(name)
                    + "': must be letters, digits and '_', starting with a letter or '_', with at most one '.'");
        }
        if (DIRECTIVES.contains(name.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("'" + name + "' is a postgresql.conf directive, not a parameter");
        }
        return name;
    }

    /** Rejects what {@link #quote} cannot write; {@code what} names the setting in the message. */
    public static String checkValue(String what, String value) {
        Objects.requireNonNull(value, what);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c != '\t' && Character.isISOControl(c)) {
                throw new IllegalArgumentException("value of " + what + " contains control character "
                        + String.format("U+%04X", (int) c) + " at index " + i + ": '" + printable(value) + "'");
            }
        }
        return value;
    }

    /** The value as a single-quoted {@code postgresql.conf} string that PostgreSQL reads back as {@code value}. */
    public static String quote(String value) {
        checkValue("parameter", value);
        StringBuilder sb = new StringBuilder(value.length() + 2).append('\'');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\'' -> sb.append("''");
                case '\t' -> sb.append("\\t");
                default -> sb.append(c);
            }
        }
        return sb.append('\'').toString();
    }

    /** For error messages: control characters shown as {@code \\uXXXX}, so a message stays one line. */
    public static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isISOControl(c)) {
                sb.append(String.format("\\u%04X", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
