package dev.polarscale.core.internal.exec;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.CommandTimeoutException;
import dev.polarscale.core.OutputListener;
import dev.polarscale.core.PolarException;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.ExecuteException;
import org.apache.commons.exec.ExecuteResultHandler;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.PumpStreamHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs commands on this machine with Apache Commons Exec (stream pumping, asynchronous result
 * handling), argument by argument.
 *
 * <p>Commons Exec's {@code CommandLine} trims every argument (its {@code Argument} stores
 * {@code value.trim()}), so an argument with leading or trailing white space would change on
 * the way. The executor therefore overrides {@code launch} and starts the process from the
 * exact argument list with {@link ProcessBuilder}; the {@code CommandLine} (built with
 * {@code addArgument(arg, false)}) only serves Commons Exec's bookkeeping.
 *
 * <p>Commons Exec's own watchdog only destroys the direct child, which leaves the children of
 * a {@code sh -c} alive and the output pipes open. So the executor keeps the {@link Process}
 * (by overriding {@code launch}) and, on timeout, kills the whole tree through
 * {@link ProcessHandle#descendants()}, children first.
 */
public final class LocalCommandExecutor implements CommandExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(LocalCommandExecutor.class);
    private static final Duration PUMP_DRAIN = Duration.ofSeconds(5);

    private final String host;
    private final String self;

    public LocalCommandExecutor(String host) {
        this.host = host;
        this.self = System.getProperty("user.name");
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public CommandResult execute(Command command) {
        List<String> argv = IdentitySwitch.argv(command, self, false);
        CommandLine line = new CommandLine(argv.get(0));
        for (String a : argv.subList(1, argv.size())) {
            line.addArgument(a, false);
        }
        OutputListener listener = command.outputListener().orElse(null);
        LineTee out = new LineTee(listener, OutputListener.Stream.STDOUT);
        LineTee err = new LineTee(listener, OutputListener.Stream.STDERR);
        PumpStreamHandler streams = new PumpStreamHandler(out, err,
                command.stdin().map(ByteArrayInputStream::new).orElse(null));
        streams.setStopTimeout(PUMP_DRAIN);

        AtomicReference<Process> process = new AtomicReference<>();
        DefaultExecutor executor = new ExactArgvExecutor(argv, process);
        executor.setStreamHandler(streams);
        executor.setExitValues(null);
        command.workingDirectory().map(Path::toFile).ifPresent(executor::setWorkingDirectory);

        Map<String, String> env = new HashMap<>(System.getenv());
        LibpqEnvironment.strip(env);  // a command gets libpq settings only from what it sets itself
        env.putAll(command.environment());

        LOG.debug("{} - run: {}", host, command);
        LatchResultHandler handler = new LatchResultHandler();
        long start = System.nanoTime();
        try {
            executor.execute(line, env, handler);
        } catch (IOException e) {
            throw new PolarException(PolarException.Reason.COMMAND_FAILED, null, host, null,
                    host + " - cannot start " + command + ": " + e.getMessage(), e);
        }
        try {
            handler.waitFor(command.timeout());
            if (!handler.hasResult()) {
                killTree(process.get());
                handler.waitFor(PUMP_DRAIN);
                throw new CommandTimeoutException(host, command.redactedArgv(), command.timeout(),
                        host + " - command timed out after " + command.timeout().toMillis() + " ms and was killed: "
                                + command);
            }
        } catch (InterruptedException e) {
            killTree(process.get());
            Thread.currentThread().interrupt();
            throw new PolarException(PolarException.Reason.INTERRUPTED, null, host, null,
                    host + " - interrupted while running " + command, e);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        if (handler.getException() != null && process.get() == null) {
            Throwable cause = handler.getException();
            while (cause.getCause() != null) {
                cause = cause.getCause();
            }
            throw new PolarException(PolarException.Reason.COMMAND_FAILED, null, host, null,
                    host + " - cannot start " + command + ": " + command.redact(cause.getMessage()),
                    handler.getException());
        }
        out.close();
        err.close();
        CommandResult result = new CommandResult(handler.getExitValue(), out.text(), err.text(), took);
        LOG.debug("{} - exit {} in {} ms: {}", host, result.exitCode(), took.toMillis(), command);
        return result;
    }

    /** Kills a process and all its descendants, children first so none is re-parented and missed. */
    static void killTree(Process p) {
        if (p == null) {
            return;
        }
        ProcessHandle root = p.toHandle();
        List<ProcessHandle> tree = root.descendants().toList();
        root.destroyForcibly();
        for (ProcessHandle h : tree) {
            h.destroyForcibly();
        }
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "LocalCommandExecutor[" + host + " as " + self + "]";
    }

    /**
     * Commons Exec's {@code DefaultExecuteResultHandler.waitFor} polls every 50 ms, which put a
     * 50 ms floor under every command (a scale-out runs dozens); this one wakes on completion.
     */
    private static final class LatchResultHandler implements ExecuteResultHandler {
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile int exitValue = Integer.MIN_VALUE;
        private volatile ExecuteException exception;

        @Override
        public void onProcessComplete(int exit) {
            exitValue = exit;
            done.countDown();
        }

        @Override
        public void onProcessFailed(ExecuteException e) {
            exception = e;
            exitValue = e.getExitValue();
            done.countDown();
        }

        void waitFor(Duration timeout) throws InterruptedException {
            done.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }

        boolean hasResult() {
            return done.getCount() == 0;
        }

        ExecuteException getException() {
            return exception;
        }

        int getExitValue() {
            return exitValue;
        }
    }

    private static final class ExactArgvExecutor extends DefaultExecutor {
        private final List<String> argv;
        private final AtomicReference<Process> process;

        @SuppressWarnings("deprecation")
        ExactArgvExecutor(List<String> argv, AtomicReference<Process> process) {
            this.argv = argv;
            this.process = process;
        }

        @Override
        protected Process launch(CommandLine command, Map<String, String> env, File dir) throws IOException {
            return launch(command, env, dir == null ? null : dir.toPath());
        }

        @Override
        protected Process launch(CommandLine command, Map<String, String> env, Path dir) throws IOException {
            if (dir != null && !java.nio.file.Files.isDirectory(dir)) {
                throw new IOException("working directory does not exist: " + dir);
            }
            ProcessBuilder pb = new ProcessBuilder(argv);
            if (dir != null) {
                pb.directory(dir.toFile());
            }
            if (env != null) {
                pb.environment().clear();
                pb.environment().putAll(env);
            }
            Process p = pb.start();
            process.set(p);
            return p;
        }
    }
}
