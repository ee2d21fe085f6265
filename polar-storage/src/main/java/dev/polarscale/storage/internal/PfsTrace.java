package dev.polarscale.storage.internal;

import dev.polarscale.core.CommandResult;
import dev.polarscale.storage.DeviceName;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs a {@code pfs} command so that its own account of what it did comes back with it.
 *
 * <p>The {@code pfs} tool redirects its standard error into {@code /var/log/pfs-<disk>.log} as soon
 * as it mounts the disk (mode 0666, appended by every {@code pfs} process for that disk), so
 * {@code pfs ls} on an unformatted device prints nothing at all and exits 5; only the log says
 * {@code pfs mismatch occurs in chunk 0. Make sure mkfs has run!}. {@link #argv} wraps the
 * command in a fixed {@code sh} script (the arguments travel as positional parameters, never
 * inside the script): it notes the log's size, runs the command in the background to learn its
 * pid, waits for it, and then appends to standard error a marker line with the pid and every log
 * line written since. {@link #parse} keeps the lines of that pid (PFS prefixes each with the
 * thread id, which is the pid for the main thread), so lines of other {@code pfs} processes on
 * the same disk, and of the worker threads, are left out: the lines a decision rests on come from
 * the main thread.
 */
public final class PfsTrace {
    /** The wrapper script; {@code $1} is the log file, the rest the command. */
    public static final String SCRIPT = """
            log=$1; shift
            size=$(stat -c %s -- "$log" 2>/dev/null) || size=0
            "$@" </dev/null & pid=$!
            wait "$pid"; rc=$?
            echo "--- pfs trace of pid $pid" >&2
            tail -c +"$((size + 1))" -- "$log" >&2 2>/dev/null
            exit "$rc"
            """;

    private static final Pattern MARKER = Pattern.compile("(?m)^--- pfs trace of pid (\\d+)$");

    private PfsTrace() {
    }

    /** Where {@code pfs} writes its trace for the disk. */
    public static String logFile(DeviceName disk) {
        return "/var/log/pfs-" + disk.name() + ".log";
    }

    /** {@code sh -c SCRIPT sh <log> <command...>}. */
    public static List<String> argv(DeviceName disk, List<String> command) {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", SCRIPT, "sh", logFile(disk)));
        argv.addAll(command);
        return List.copyOf(argv);
    }

    /**
     * What a wrapped command left: its exit code and standard output as they were, the standard
     * error it wrote itself (before PFS redirected it), and its trace lines.
     *
     * @param result     the wrapped command's result
     * @param pid        the pid of the {@code pfs} process, or -1 when the marker is missing
     * @param ownStderr  what the process wrote to standard error before the redirection
     * @param trace      the log lines of that pid, in order
     */
    public record Traced(CommandResult result, long pid, String ownStderr, List<String> trace) {
        public Traced {
            trace = List.copyOf(trace);
        }

        /** The trace lines at error level ({@code ERR}). */
        public List<String> errors() {
            return trace.stream().filter(l -> l.contains(" ERR ")).toList();
        }

        /** Whether a trace line contains {@code text}. */
        public boolean traced(String text) {
            return trace.stream().anyMatch(l -> l.contains(text));
        }

        /**
         * For messages: exit code, the tail of standard output, the process's own standard error
         * and the trace's error lines (else its last lines), each shortened.
         */
        public String summary() {
            StringBuilder sb = new StringBuilder("exit ").append(result.exitCode());
            String out = CommandResult.tail(result.stdout(), 3).strip();
            if (!out.isEmpty()) {
                sb.append("; output: ").append(out.replace('\n', '|'));
            }
            String own = CommandResult.tail(ownStderr, 3).strip();
            if (!own.isEmpty()) {
                sb.append("; stderr: ").append(own.replace('\n', '|'));
            }
            List<String> lines = errors().isEmpty() ? trace.subList(Math.max(0, trace.size() - 3), trace.size())
                    : errors().subList(Math.max(0, errors().size() - 6), errors().size());
            if (!lines.isEmpty()) {
                sb.append("; trace: ").append(String.join(" | ", lines.stream().map(PfsTrace::message).toList()));
            }
            return sb.toString();
        }
    }

    /** Splits a wrapped command's standard error into its own part and its trace lines. */
    public static Traced parse(CommandResult r) {
        Matcher m = MARKER.matcher(r.stderr());
        int at = -1;
        long pid = -1;
        while (m.find()) {
            at = m.start();
            pid = Long.parseLong(m.group(1));
        }
        if (at < 0) {
            return new Traced(r, -1, r.stderr(), List.of());
        }
        String own = r.stderr().substring(0, at);
        String tag = "[" + pid + "]";
        List<String> lines = new ArrayList<>();
        // before the marker too: where PFS could not open its log, its lines stayed on stderr
        for (String line : r.stderr().split("\n")) {
            if (line.contains(tag)) {
                lines.add(line);
            }
        }
        return new Traced(r, pid, own, lines);
    }

    /**
     * A trace line without its prefix: {@code [PFS_LOG] Nov 25 15:28:09.279516 ERR [8433] pfs magic
     * mismatch ...} becomes {@code ERR pfs magic mismatch ...}.
     */
    static String message(String line) {
        int close = line.indexOf("] ", line.indexOf("[", 1) + 1);
        if (line.startsWith("[PFS_LOG] ") && close > 0) {
            String head = line.substring(0, close);
            String level = head.contains(" ERR ") ? "ERR " : head.contains(" WRN ") ? "WRN " : "";
            return level + line.substring(close + 2).strip();
        }
        return line.strip();
    }
}
