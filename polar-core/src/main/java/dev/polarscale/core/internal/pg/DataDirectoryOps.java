package dev.polarscale.core.internal.pg;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandFailedException;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.CommandTimeoutException;
import dev.polarscale.core.NodeStartupException;
import dev.polarscale.core.NodeState;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.ShellQuoting;
import dev.polarscale.core.internal.exec.LibpqEnvironment;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * What {@code PostgresNode} does to its data directory through the host's executor, as the
 * server's OS user: {@code pg_ctl status} and stop, delete, read and write files, the log tail.
 * Each is one command (one round trip over SSH); scripts take paths as positional arguments,
 * never inside the script text.
 */
public final class DataDirectoryOps {
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final int STATUS_STOPPED = 3;
    private static final int STATUS_NO_DIR = 4;
    private static final String NOT_RUNNING = "polarscale-not-running";
    /** Prints the live postmaster's PID, or exits 1: no pid file, or a zombie (SIGKILLed, not reaped). */
    private static final String LIVE_PID = "pid=$(head -n 1 \"$1/postmaster.pid\" 2>/dev/null) && [ -n \"$pid\" ] "
            + "&& ! ps -o stat= -p \"$pid\" 2>/dev/null | grep -q '^Z'";

    /**
     * $1 data directory, $2 pg_ctl, $3 log, $4 server options, $5 timeout (s). The pid file's
     * lines 1, 3 and 8 are the postmaster's PID, start time and status.
     */
    private static final String START = String.join("\n",
            "d=$1; pid=; t=; st=; now=$(date +%s)",
            "old=$(sed -n '1p;3p' \"$d/postmaster.pid\" 2>/dev/null | tr '\\n' ' ')",
            "out=$(mktemp 2>/dev/null) || out=/dev/null",
            "\"$2\" start -D \"$d\" -l \"$3\" -o \"$4\" -w -t \"$5\" > \"$out\" 2>&1 &",
            "ctl=$!",
            "while kill -0 \"$ctl\" 2>/dev/null; do",
            "  if [ -f \"$d/postmaster.pid\" ] && { IFS= read -r pid; read -r _; IFS= read -r t; read -r _; read -r _;"
                    + " read -r _; read -r _; IFS= read -r st; } < \"$d/postmaster.pid\" 2>/dev/null; then",
            "    case \"$st\" in ready*|standby*)",
            "      if [ \"$pid $t \" != \"$old\" ] && [ \"$t\" -ge $((now - 2)) ] 2>/dev/null"
                    + " && kill -0 \"$pid\" 2>/dev/null; then [ \"$out\" = /dev/null ] || rm -f \"$out\"; exit 0; fi;;",
            "    esac",
            "  fi",
            "  sleep 0.01 2>/dev/null || sleep 1",
            "done",
            "wait \"$ctl\"; rc=$?",
            "[ \"$out\" = /dev/null ] || { cat \"$out\" >&2; rm -f \"$out\"; }",
            "exit $rc");
    /** After LIVE_PID: $1 data directory, $2 pg_ctl, $3 mode, $4 timeout (s). */
    private static final String STOP = "\"$2\" stop -D \"$1\" -m \"$3\" -W > /dev/null || exit $?; i=0; "
            + "while [ -f \"$1/postmaster.pid\" ] && kill -0 \"$pid\" 2>/dev/null; do "
            + "[ $i -ge $(($4 * 100)) ] && { echo \"server did not stop within $4 s\" >&2; exit 1; }; "
            + "i=$((i + 1)); sleep 0.01 2>/dev/null || sleep 1; done";

    private final String node;
    private final CommandExecutor executor;
    private final Path dir;
    private final Path pgCtl;
    private final UnaryOperator<Command> asServerUser;

    /**
     * @param asServerUser turns a command into one run as the server's OS user
     */
    public DataDirectoryOps(String node, CommandExecutor executor, Path dir, Path pgCtl,
                            UnaryOperator<Command> asServerUser) {
        this.node = node;
        this.executor = executor;
        this.dir = dir;
        this.pgCtl = pgCtl;
        this.asServerUser = asServerUser;
    }

    /**
     * Runs {@code initdb} into the (existing, empty) directory: UTF-8, the superuser with the
     * password from a private 0600 file (never argv), {@code scram-sha-256} for TCP and
     * {@code peer} locally.
     */
    public void initdb(Path initdb, String superuser, String password) {
        String pwdir = passwordFileDirectory(password);
        try {
            executor.run(asServerUser.apply(Command.of(initdb.toString(), "-D", dir.toString(), "-U", superuser,
                    "--pwfile=" + pwdir + "/pw", "-E", "UTF8", "--locale=C", "--auth-host=scram-sha-256",
                    "--auth-local=peer", "--no-sync").withSecret(password).withTimeout(Duration.ofMinutes(5))));
        } finally {
            removeQuietly(pwdir);
        }
    }

    /**
     * {@code pg_ctl start -w} with the port and the socket directory on the server's command
     * line ({@code pg_ctl} hands {@code -o} to /bin/sh: the directory is quoted there).
     *
     * <p>{@code pg_ctl -w} looks at {@code postmaster.pid} only every 100 ms. It runs in the
     * background of a script that reads the same status line ({@code ready} or {@code standby},
     * written by a postmaster started now, not a stale file) every 10 ms and returns as soon as it
     * is there; pg_ctl's own result counts when it ends first (a failed start). No connection is
     * tried, so the server log gets no "starting up" lines; the caller checks with JDBC after.
     *
     * @throws NodeStartupException pg_ctl failed or timed out; with the server log's tail
     */
    public void start(int port, Duration timeout, String secret) {
        long secs = Math.max(1, timeout.toSeconds());
        String serverOptions = "-p " + port + " -k " + ShellQuoting.quote(dir.toString());
        List<String> argv = new ArrayList<>(LibpqEnvironment.unsetPrefix());  // the caller's PGPASSWORD & co. stay out of the server
        argv.addAll(List.of("sh", "-c", START, "sh", dir.toString(), pgCtl.toString(),
                dir.resolve("pg_ctl.log").toString(), serverOptions, Long.toString(secs)));
        Command start = asServerUser.apply(Command.of(argv).withSecret(secret).withTimeout(timeout.plusSeconds(30)));
        CommandResult r;
        try {
            r = executor.execute(start);
        } catch (CommandTimeoutException e) {
            throw new NodeStartupException(node, "pg_ctl start timed out", logTail(40), e);
        }
        if (!r.succeeded()) {
            throw new NodeStartupException(node, "pg_ctl start failed (exit " + r.exitCode() + ") on port " + port
                    + ": " + r.stderrTail(5).strip(), logTail(40));
        }
    }

    /** {@code pg_ctl status}; a zombie postmaster counts as stopped. */
    public NodeState status(String secret) {
        CommandResult r = executor.execute(asServerUser.apply(Command.of(pgCtl.toString(), "status", "-D",
                dir.toString()).withSecret(secret).withTimeout(SHORT)));
        return switch (r.exitCode()) {
            case 0 -> postmasterDefunct() ? NodeState.STOPPED : NodeState.RUNNING;
            case STATUS_STOPPED -> NodeState.STOPPED;
            case STATUS_NO_DIR -> NodeState.NO_DATA_DIRECTORY;
            default -> throw new CommandFailedException(executor.host(), List.of("pg_ctl", "status"), r,
                    node + " - pg_ctl status failed with exit " + r.exitCode() + ": " + r.stderrTail(5));
        };
    }

    /**
     * Whether the PID in {@code postmaster.pid} is a zombie: a postmaster killed with SIGKILL
     * whose parent (here often a PID 1 that does not reap) has not collected it. {@code pg_ctl}
     * takes such a PID for a live server and waits in vain for it to stop.
     */
    private boolean postmasterDefunct() {
        String script = "pid=$(head -n 1 \"$1/postmaster.pid\" 2>/dev/null) && [ -n \"$pid\" ] && "
                + "ps -o stat= -p \"$pid\" | grep -q '^Z'";
        return run(script).succeeded();
    }

    /**
     * Stops the server in one round trip unless it is not running (no pid file, a zombie); a
     * failed {@code pg_ctl stop} is checked against the status (a stale pid file after a crash).
     * {@code pg_ctl stop -W} signals the postmaster; its pid file is then watched every 10 ms
     * (where {@code pg_ctl -w} looks every 100 ms) until the postmaster removes it or exits.
     *
     * @return whether a running server was stopped
     */
    public boolean stop(String mode, Duration timeout, String secret) {
        long secs = Math.max(1, timeout.toSeconds());
        String script = "{ " + LIVE_PID + "; } || { echo " + NOT_RUNNING + "; exit 0; }; " + STOP;
        Command stop = asServerUser.apply(Command.of("sh", "-c", script, "sh", dir.toString(), pgCtl.toString(), mode,
                Long.toString(secs)).withSecret(secret).withTimeout(timeout.plusSeconds(30)));
        CommandResult r = executor.execute(stop);
        if (r.succeeded()) {
            return !r.stdout().contains(NOT_RUNNING);
        }
        if (status(secret) != NodeState.RUNNING) {
            return false;
        }
        throw new CommandFailedException(PolarException.Reason.COMMAND_FAILED, node, executor.host(),
                stop.redactedArgv(), stop.redact(r), node + " - pg_ctl stop failed (exit " + r.exitCode() + "): "
                + stop.redact(r.stderrTail(5)).strip());
    }

    /** Removes the data directory in one round trip; refused while a live postmaster owns it. */
    public void delete(String secret) {
        String script = LIVE_PID + " && kill -0 \"$pid\" 2>/dev/null && exit 3; exec rm -rf -- \"$1\"";
        CommandResult r = run(script);
        if (r.exitCode() == 3 || (!r.succeeded() && status(secret) == NodeState.RUNNING)) {
            throw new IllegalStateException(node + " - cannot delete " + dir + " while the server runs");
        }
        if (!r.succeeded()) {
            executor.run(Command.of("rm", "-rf", "--", dir.toString()).withTimeout(Duration.ofMinutes(5)).privileged());
        }
    }

    /**
     * Creates a directory (and parents) with mode 0700, owned by the OS user; idempotent.
     * Switches to root only when the OS user differs from the executor's and cannot do it itself.
     */
    public void createDirectory(Path path, Optional<String> user) {
        Command mk = Command.of("mkdir", "-p", "-m", "0700", "--", path.toString()).withTimeout(SHORT);
        if (user.isEmpty()) {
            executor.run(mk);
            return;
        }
        Command asUser = mk.asUser(user.get());
        CommandResult r = executor.execute(asUser);
        if (r.succeeded()) {
            return;
        }
        // the user cannot create it: as root, then handed over; where the executor cannot become
        // root (no sudo, or it asks for a password), the user's own failure is the answer
        try {
            executor.run(mk.privileged());
        } catch (PolarException escalation) {
            CommandFailedException e = new CommandFailedException(executor.host(), asUser.redactedArgv(),
                    asUser.redact(r), executor.host() + " - " + node + " - cannot create " + path + " as "
                    + user.get() + " (exit " + r.exitCode() + "): " + asUser.redact(r.stderrTail(5)).strip());
            e.addSuppressed(escalation);
            throw e;
        }
        executor.run(Command.of("chown", "--", user.get(), path.toString()).privileged().withTimeout(SHORT));
    }

    public String read(String relative) {
        return executor.run(asServerUser.apply(Command.of("cat", "--", inside(relative).toString())
                .withTimeout(SHORT))).stdout();
    }

    /** Written to a temporary name first (mode 0600), then renamed: a reader never sees half a file. */
    public void write(String relative, String content, List<String> secrets) {
        Command write = Command.of("sh", "-c", "umask 077 && cat > \"$1.polarscale-tmp\" && mv -f -- "
                + "\"$1.polarscale-tmp\" \"$1\"", "sh", inside(relative).toString()).withStdin(content)
                .withTimeout(SHORT);
        for (String secret : secrets) {
            write = write.withSecret(secret);
        }
        executor.run(asServerUser.apply(write));
    }

    public boolean exists(String relative) {
        return executor.execute(asServerUser.apply(Command.of("test", "-e", inside(relative).toString())
                .withTimeout(SHORT))).succeeded();
    }

    /** A private temporary directory of the OS user holding {@code pw} (the password, mode 0600). */
    public String passwordFileDirectory(String password) {
        Command write = Command.of("sh", "-c", "umask 077 && d=$(mktemp -d) && cat > \"$d/pw\" && echo \"$d\"")
                .withStdin(password + "\n").withSecret(password).withTimeout(SHORT);
        return executor.run(asServerUser.apply(write)).stdout().strip();
    }

    public void removeQuietly(String path) {
        executor.execute(asServerUser.apply(Command.of("rm", "-rf", "--", path).withTimeout(SHORT)));
    }

    /** The last lines of {@code pg_ctl.log} and the newest server logs; best effort. */
    public String logTail(int lines) {
        String script = "for f in \"$1/pg_ctl.log\" $(ls -1t \"$1\"/pg_log/*_error.log \"$1\"/pg_log/*.log "
                + "\"$1\"/log/*.log 2>/dev/null | head -n 2); do "
                + "[ -f \"$f\" ] && { echo \"==> $f <==\"; tail -n \"$2\" \"$f\"; }; done; true";
        try {
            return executor.execute(asServerUser.apply(Command.of("sh", "-c", script, "sh", dir.toString(),
                    Integer.toString(lines)).withTimeout(SHORT))).stdout().strip();
        } catch (PolarException e) {
            return "(server log unreadable: " + e.getMessage() + ")";
        }
    }

    private CommandResult run(String script) {
        return executor.execute(asServerUser.apply(Command.of("sh", "-c", script, "sh", dir.toString())
                .withTimeout(Duration.ofMinutes(5))));
    }

    private Path inside(String relative) {
        Objects.requireNonNull(relative, "relative");
        Path p = dir.resolve(relative).normalize();
        if (relative.isEmpty() || !p.startsWith(dir) || p.equals(dir)) {
            throw new IllegalArgumentException(node + " - not a file inside the data directory: '" + relative + "'");
        }
        return p;
    }
}
