package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;
import dev.polarscale.storage.DeviceName;
import dev.polarscale.storage.LoopDevice;
import dev.polarscale.storage.Pfs;
import dev.polarscale.storage.PolarInitdb;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * What a PFS IT makes on this machine and must take away again, also when it fails or its JVM is
 * ended: a base directory, sparse images attached as loop devices, the pfsd of each device, the
 * {@code /usr/local/bin/pfs} link {@code polar-initdb.sh} needs (only if it was missing), and the
 * host-wide directories the PFS tools create on first use (only those that were missing).
 * {@link #close()} removes them in the safe order (servers under the base directory, pfsd by its
 * real pid, shared memory and run files, loop devices, images, directories, link); it is
 * idempotent and also runs from a JVM shutdown hook.
 *
 * <p>The loop devices are polar-storage's {@link LoopDevice} (its test-jar).
 */
final class PfsRig implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PfsRig.class);
    private static final Duration SHORT = Duration.ofSeconds(60);
    private static final List<Path> HOST_DIRS = List.of(Path.of("/var/run/pfsd"), Path.of("/dev/shm/pfsd"),
            Path.of("/var/run/pfs"));

    final Path base;
    private final List<Path> absentHostDirs;
    private final boolean madeLink;
    private final List<LoopDevice> devices = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread hook;

    private PfsRig(Path base, List<Path> absentHostDirs, boolean madeLink) {
        this.base = base;
        this.absentHostDirs = absentHostDirs;
        this.madeLink = madeLink;
        this.hook = new Thread(this::cleanUp, "pfs-rig-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The PolarDB installation's bin directory. */
    static Path polarBin() {
        return Path.of(System.getenv("POLARDB_HOME"), "bin");
    }

    /** The engines bundle's PFS tools. */
    static Path pfsBin() {
        return Path.of(System.getenv("POLARDB_HOME"), "pfsd", "bin");
    }

    /** The bundle's tools, cluster {@code disk}, one pfsd worker (each busy-polls a CPU). */
    static Pfs pfs() {
        return Pfs.builder().clusterName("disk").pfsCommand(pfsBin().resolve("pfs").toString()).pfsdBinDir(pfsBin())
                .workers(1).timeout(Duration.ofMinutes(2)).build();
    }

    /** A base directory (mode 0711), the pfs link if missing; everything is undone by {@link #close()}. */
    static PfsRig create(String prefix) throws IOException {
        List<Path> absent = HOST_DIRS.stream().filter(d -> !Files.exists(d)).toList();
        Path link = PolarInitdb.SCRIPT_PFS;
        boolean makeLink = !Files.exists(link, LinkOption.NOFOLLOW_LINKS);
        Path base = Files.createTempDirectory(prefix);
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        PfsRig rig = new PfsRig(base, absent, makeLink);
        if (makeLink) {
            Files.createDirectories(link.getParent());
            Files.createSymbolicLink(link, pfsBin().resolve("pfs"));
        }
        return rig;
    }

    /** A sparse image of {@code size} ({@code truncate -s}) in the base directory, attached as a loop device. */
    synchronized DeviceName loopDevice(String name, String size) {
        LoopDevice d = LoopDevice.create(base, name, size, false, false);
        devices.add(d);
        return d.name();
    }

    /** Stops the device's pfsd by its real pid (SIGINT, then SIGKILL after 5 s) and removes its shm and run files. */
    static void stopPfsd(DeviceName device) {
        try (CommandExecutor local = Executors.local()) {
            LoopDevice.stopPfsd(local, device);
        }
    }

    /** Whether a pfsdaemon for the device runs, seen in {@code /proc}. */
    static boolean pfsdRunning(DeviceName device) {
        return LoopDevice.pfsdRunning(device);
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
            stopServersUnderBase(local);
            devices.forEach(LoopDevice::close);  // pfsd by its real pid, shm and run files, losetup -d, image
            boolean daemons = ProcessHandle.allProcesses().anyMatch(h -> LoopDevice.running(h)
                    && h.info().commandLine().map(c -> c.contains("pfsdaemon -p ")).orElse(false));
            if (!daemons) {
                for (Path d : absentHostDirs) {
                    local.execute(Command.of("rm", "-rf", "--", d.toString()));
                }
            }
            if (madeLink) {
                local.execute(Command.of("rm", "-f", "--", PolarInitdb.SCRIPT_PFS.toString()));
            }
            local.execute(Command.of("rm", "-rf", "--", base.toString()).withTimeout(Duration.ofMinutes(2)));
        } catch (RuntimeException e) {
            LOG.warn("PFS rig cleanup of {} failed", base, e);
        }
    }

    /** An immediate shutdown (SIGQUIT) of every postmaster whose data directory is below the base directory. */
    private void stopServersUnderBase(CommandExecutor local) {
        List<ProcessHandle> postmasters = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(base)) {
            for (Path pidFile : dirs.map(d -> d.resolve("postmaster.pid")).filter(Files::isRegularFile).toList()) {
                long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
                ProcessHandle.of(pid).ifPresent(postmasters::add);
                local.execute(Command.of("kill", "-QUIT", Long.toString(pid)));
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot look for servers under {}", base, e);
        }
        awaitGone(postmasters, Duration.ofSeconds(10));
    }

    private static void awaitGone(List<ProcessHandle> processes, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        for (ProcessHandle h : processes) {
            while (LoopDevice.running(h) && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * Why the PFS ITs cannot run here (not root, no loop device, a tool missing, no engines bundle,
     * libaio missing), or empty when they can.
     */
    static Optional<String> missing() {
        try (CommandExecutor local = Executors.local()) {
            Optional<String> loop = LoopDevice.missing();
            if (loop.isPresent()) {
                return loop;
            }
            for (String tool : new String[] {"mkfs.ext4", "blkid", "lsblk", "pgrep"}) {
                if (!local.execute(Command.of("sh", "-c", "command -v \"$1\"", "sh", tool)).succeeded()) {
                    return Optional.of("no " + tool + " on this machine (.ci/setup.d/30-pfs.sh installs it)");
                }
            }
            String home = System.getenv("POLARDB_HOME");
            if (home == null || home.isBlank()) {
                return Optional.of("POLARDB_HOME not set: point it at the PolarDB-PG 15 engines bundle (with pfsd/bin/pfs)");
            }
            List<Path> tools = List.of(polarBin().resolve("polar-initdb.sh"), pfsBin().resolve("pfs"),
                    pfsBin().resolve("pfsdaemon"), pfsBin().resolve("start_pfsd.sh"), pfsBin().resolve("stop_pfsd.sh"));
            for (Path tool : tools) {
                if (!Files.isExecutable(tool)) {
                    return Optional.of("no executable " + tool + " (POLARDB_HOME=" + home
                            + " is not the engines bundle with PFS)");
                }
            }
            for (String tool : new String[] {"pfs", "pfsdaemon"}) {
                CommandResult ldd = local.execute(Command.of("ldd", pfsBin().resolve(tool).toString()).withTimeout(SHORT));
                if (ldd.stdout().contains("libaio.so.1 => not found")) {
                    return Optional.of(tool + " cannot load libaio.so.1: install Debian's libaio1 (.ci/setup.d/30-pfs.sh does)");
                }
                if (!ldd.succeeded() || ldd.stdout().contains("not found")) {
                    return Optional.of(tool + " misses a shared library: " + ldd.stdout().strip());
                }
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.of("cannot check for the PFS prerequisites: " + e.getMessage());
        }
    }

    /** Disables a test class, with the reason, where {@link #missing()} names one. */
    static final class Required implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return missing().map(ConditionEvaluationResult::disabled)
                    .orElseGet(() -> ConditionEvaluationResult.enabled("root, loop devices, PolarDB-PG 15 with PFS, libaio"));
        }
    }
}
