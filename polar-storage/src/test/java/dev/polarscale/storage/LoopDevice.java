package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A sparse image file attached as a loop device ({@code truncate -s}, {@code losetup -f --show}):
 * a block device that costs no disk until written. {@link #close()} stops any pfsdaemon for the
 * device by its real pid (found in {@code /proc}, not in pfsd's pid file, which can hold the pid of
 * the process that forked the daemon), removes what pfsd and pfs left for the device (324 MB of
 * shared memory in {@code /dev/shm/pfsd}, run and log files), unmounts it if mounted, detaches it and
 * deletes the image. It is idempotent and also runs from a JVM shutdown hook, the last resort when
 * a test run is killed.
 */
public final class LoopDevice implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LoopDevice.class);
    private static final Duration SHORT = Duration.ofSeconds(60);

    private final Path image;
    private final DeviceName name;
    private final List<Path> mounts = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread hook;

    private LoopDevice(Path image, DeviceName name) {
        this.image = image;
        this.name = name;
        this.hook = new Thread(this::cleanUp, "loop-device-cleanup-" + name);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Why no loop device can be made here (not root, no free loop device), or empty when one can. */
    public static Optional<String> missing() {
        try (CommandExecutor local = Executors.local()) {
            if (!local.execute(Command.of("id", "-u")).stdout().strip().equals("0")) {
                return Optional.of("not root: loop devices (losetup) and the PFS tools need root");
            }
            CommandResult free = local.execute(Command.of("losetup", "-f").withTimeout(SHORT));
            if (!free.succeeded()) {
                return Optional.of("no free loop device can be made here (losetup -f exited " + free.exitCode() + ": "
                        + free.stderrTail(2).strip() + ")");
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.of("cannot check for loop devices: " + e.getMessage());
        }
    }

    /** Disables a test class, with the reason, where {@link #missing()} names one. */
    static final class Required implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return missing().map(ConditionEvaluationResult::disabled)
                    .orElseGet(() -> ConditionEvaluationResult.enabled("loop devices can be made"));
        }
    }

    /**
     * A new sparse image of {@code size} ({@code truncate -s}, e.g. {@code 30G}) in {@code dir},
     * attached read-write or read-only; skips the test when no loop device can be attached.
     */
    public static LoopDevice create(Path dir, String name, String size, boolean readOnly, boolean partitions) {
        Path image = dir.resolve(name + ".img");
        try (CommandExecutor local = Executors.local()) {
            local.run(Command.of("truncate", "-s", size, image.toString()).withTimeout(SHORT));
            List<String> argv = new ArrayList<>(List.of("losetup", "-f", "--show"));
            if (readOnly) {
                argv.add("-r");
            }
            if (partitions) {
                argv.add("-P");
            }
            argv.add(image.toString());
            CommandResult r = local.execute(Command.of(argv).withTimeout(SHORT));
            if (!r.succeeded()) {
                deleteQuietly(image);
                Assumptions.abort("cannot attach a loop device (losetup exited " + r.exitCode() + ": "
                        + r.stderrTail(2).strip() + ")");
            }
            LoopDevice d = new LoopDevice(image, DeviceName.of(r.stdout().strip()));
            LOG.info("loop device {} on sparse {} of {}{}", d.name, image, size, readOnly ? " (read-only)" : "");
            return d;
        }
    }

    public DeviceName name() {
        return name;
    }

    Path image() {
        return image;
    }

    /** Remembers a mount point to unmount on close. */
    void mountedOn(Path dir) {
        mounts.add(dir);
    }

    @Override
    public void close() {
        cleanUp();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway; cleanUp is idempotent
        }
    }

    private void cleanUp() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try (CommandExecutor local = Executors.local()) {
            stopPfsd(local, name);
            for (Path m : mounts) {
                local.execute(Command.of("umount", m.toString()).withTimeout(SHORT));
            }
            CommandResult r = local.execute(Command.of("losetup", "-d", name.devicePath()).withTimeout(SHORT));
            if (!r.succeeded()) {
                LOG.warn("losetup -d {} exited {}: {}", name, r.exitCode(), r.stderrTail(2).strip());
            }
        } catch (RuntimeException e) {
            LOG.warn("cleaning up loop device {} failed", name, e);
        } finally {
            deleteQuietly(image);
        }
    }

    /**
     * Stops every pfsdaemon serving {@code device} by its pid from {@code /proc} (SIGINT as
     * {@code stop_pfsd.sh} sends, SIGKILL after 5 s) and removes pfsd's shared memory, run and
     * log files of the device. A daemon that turned into a zombie (a PID 1 that does not reap) counts as stopped.
     */
    public static void stopPfsd(CommandExecutor local, DeviceName device) {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile("pfsdaemon -p "
                + java.util.regex.Pattern.quote(device.name()) + "( |$)");
        List<ProcessHandle> daemons = ProcessHandle.allProcesses()
                .filter(h -> h.info().commandLine().map(c -> p.matcher(c).find()).orElse(false)).toList();
        for (ProcessHandle h : daemons) {
            LOG.info("stopping pfsdaemon {} for {}", h.pid(), device);
            local.execute(Command.of("kill", "-INT", Long.toString(h.pid())));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        for (ProcessHandle h : daemons) {
            while (running(h) && System.nanoTime() < deadline) {
                sleep(50);
            }
            if (running(h)) {
                LOG.warn("pfsdaemon {} ignored SIGINT: SIGKILL", h.pid());
                local.execute(Command.of("kill", "-KILL", Long.toString(h.pid())));
                while (running(h) && System.nanoTime() < deadline + Duration.ofSeconds(5).toNanos()) {
                    sleep(50);
                }
            }
        }
        String n = device.name();
        deleteGlob(Path.of("/dev/shm/pfsd"), "shm_pfsd-" + n + "_*");
        for (String f : List.of("/var/run/pfsd/" + n, "/var/run/pfsd/pfsd_" + n + ".pid", "/var/log/pfsd-" + n,
                "/var/log/pfsd-" + n + ".start.log", "/var/log/pfs-" + n + ".log", "/var/run/pfs/" + n + "-paxos-hostid")) {
            local.execute(Command.of("rm", "-rf", "--", f));
        }
    }

    /** Whether a pfsdaemon for the device runs, seen in {@code /proc}. */
    public static boolean pfsdRunning(DeviceName device) {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile("pfsdaemon -p "
                + java.util.regex.Pattern.quote(device.name()) + "( |$)");
        return ProcessHandle.allProcesses().anyMatch(h -> running(h)
                && h.info().commandLine().map(c -> p.matcher(c).find()).orElse(false));
    }

    /** Alive and not a zombie (a PID 1 that does not reap leaves them). */
    public static boolean running(ProcessHandle h) {
        if (!h.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc/" + h.pid() + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException | RuntimeException gone) {
            return false;
        }
    }

    private static void deleteGlob(Path dir, String glob) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, glob)) {
            for (Path f : s) {
                deleteQuietly(f);
            }
        } catch (IOException e) {
            LOG.warn("cannot list {}", dir, e);
        }
    }

    private static void deleteQuietly(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            LOG.warn("cannot delete {}", f, e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return name.devicePath() + " (" + image + ")";
    }
}
