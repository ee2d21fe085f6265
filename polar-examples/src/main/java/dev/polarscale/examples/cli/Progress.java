package dev.polarscale.examples.cli;

import dev.polarscale.replication.ScaleListener;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;

/**
 * Prints each step of each operation as it happens. On a terminal a running step shows as
 * {@code … base backup} and is replaced by {@code ✓ base backup  812 ms} when it finishes;
 * otherwise (a pipe, a log file, a CI job) one plain line per event:
 * {@code addStandby standby-1: step base backup done in 812 ms}.
 */
final class Progress implements ScaleListener {
    private final PrintWriter out;
    private final boolean terminal;
    private final String done;
    private final String failed;
    private final String running;
    private final String undone;
    private String operation;
    private boolean lineOpen;

    /**
     * @param terminal whether {@code out} is a terminal (rewrites a line in place)
     * @param unicode  whether {@code out} can show ✓ ✗ …
     */
    Progress(PrintWriter out, boolean terminal, boolean unicode) {
        this.out = out;
        this.terminal = terminal;
        this.done = unicode ? "✓" : "ok";
        this.failed = unicode ? "✗" : "FAILED";
        this.running = unicode ? "…" : "..";
        this.undone = unicode ? "↶" : "<-";
    }

    @Override
    public synchronized void stepStarted(String op, String step) {
        header(op);
        if (terminal) {
            out.print("  " + running + " " + step);
            lineOpen = true;
            out.flush();
        }
    }

    @Override
    public synchronized void stepFinished(String op, String step, Duration took) {
        if (terminal) {
            end();
            out.printf(Locale.ROOT, "  %s %-24s %7d ms%n", done, step, took.toMillis());
        } else {
            out.printf(Locale.ROOT, "%s: step %s done in %d ms%n", op, step, took.toMillis());
        }
        out.flush();
    }

    @Override
    public synchronized void stepFailed(String op, String step, Throwable cause) {
        String why = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        if (terminal) {
            end();
            out.printf(Locale.ROOT, "  %s %-24s %s%n", failed, step, firstLine(why));
        } else {
            out.printf(Locale.ROOT, "%s: step %s FAILED: %s%n", op, step, firstLine(why));
        }
        out.flush();
    }

    @Override
    public synchronized void stepUndone(String op, String step) {
        if (terminal) {
            end();
            out.printf(Locale.ROOT, "  %s %-24s undone%n", undone, step);
        } else {
            out.printf(Locale.ROOT, "%s: step %s undone%n", op, step);
        }
        out.flush();
    }

    /** On a terminal, the operation's name once above its steps. */
    private void header(String op) {
        if (terminal && !op.equals(operation)) {
            end();
            out.println(op);
        }
        operation = op;
    }

    /** Clears a "running" line so the next text starts at the left margin. */
    private void end() {
        if (lineOpen) {
            out.print("\r\033[K");
            lineOpen = false;
        }
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl) + " ...";
    }
}
