package dev.polarscale.core;

import java.time.Duration;
import java.util.Objects;

/**
 * What a finished command left behind: its exit code, everything it printed and how long it took.
 *
 * @param exitCode the process exit code ({@code 0} is success)
 * @param stdout   standard output, decoded as UTF-8
 * @param stderr   standard error, decoded as UTF-8
 * @param duration wall-clock time from launch to exit
 */
public record CommandResult(int exitCode, String stdout, String stderr, Duration duration)
        implements java.io.Serializable {
    public CommandResult {
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
        Objects.requireNonNull(duration, "duration");
        if (duration.isNegative()) {
            throw new IllegalArgumentException("duration must not be negative: " + duration);
        }
    }

    /** {@code true} when the exit code is 0. */
    public boolean succeeded() {
        return exitCode == 0;
    }

    /** The last {@code maxLines} lines of stderr, for error messages. */
    public String stderrTail(int maxLines) {
        return tail(stderr, maxLines);
    }

    /** The last {@code maxLines} lines of {@code text}. */
    public static String tail(String text, int maxLines) {
        if (maxLines < 1) {
            throw new IllegalArgumentException("maxLines must be >= 1: " + maxLines);
        }
        String trimmed = text.stripTrailing();
        if (trimmed.isEmpty()) {
            return "";
        }
        int end = trimmed.length();
        int pos = end;
        for (int i = 0; i < maxLines && pos > 0; i++) {
            pos = trimmed.lastIndexOf('\n', pos - 1);
            if (pos < 0) {
                return trimmed;
            }
        }
        return trimmed.substring(pos + 1);
    }
}
