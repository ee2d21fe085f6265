package dev.polarscale.core;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * POSIX shell quoting for the one place a command line must be a string: the SSH exec
 * request. Every argument is wrapped in single quotes and each {@code '} becomes {@code '\''},
 * so a POSIX {@code sh} hands the program exactly the bytes it was given.
 *
 * <pre>{@code
 * ShellQuoting.join(List.of("echo", "it's $HOME"))   // 'echo' 'it'\''s $HOME'
 * }</pre>
 */
public final class ShellQuoting {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_./:=@%+,-]+");

    private ShellQuoting() {
    }

    /** One argument, single-quoted. Rejects NUL, which no shell argument can carry. */
    public static String quote(String arg) {
        Objects.requireNonNull(arg, "arg");
        if (arg.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("argument contains a NUL character");
        }
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    /** Every argument quoted, joined by single spaces. */
    public static String join(List<String> argv) {
        StringBuilder sb = new StringBuilder();
        for (String a : argv) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(quote(a));
        }
        return sb.toString();
    }

    /** Whether an argument would change if passed through a shell unquoted (for display only). */
    static boolean needsQuoting(String arg) {
        return arg.isEmpty() || !SAFE.matcher(arg).matches();
    }
}
