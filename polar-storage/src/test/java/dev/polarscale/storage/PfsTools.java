package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The PFS tools of the engines bundle ({@code $POLARDB_HOME/pfsd/bin}: {@code pfs}, {@code pfsdaemon},
 * {@code start_pfsd.sh}, {@code stop_pfsd.sh}) for the PFS ITs, which are disabled with the reason
 * ({@code @ExtendWith(PfsTools.Required.class)}) where they cannot run: not root, no loop device,
 * {@code POLARDB_HOME} unset, {@code libaio} missing.
 */
final class PfsTools {
    private PfsTools() {
    }

    /** {@code $POLARDB_HOME/pfsd/bin}; call only where {@link #missing()} is empty. */
    static Path bin() {
        return Path.of(System.getenv("POLARDB_HOME"), "pfsd", "bin");
    }

    /**
     * Why the PFS ITs cannot run here (no loop device, POLARDB_HOME unset or not the engines bundle,
     * libaio missing), or empty when they can.
     */
    static Optional<String> missing() {
        Optional<String> loop = LoopDevice.missing();
        if (loop.isPresent()) {
            return loop;
        }
        String home = System.getenv("POLARDB_HOME");
        if (home == null || home.isBlank()) {
            return Optional.of("POLARDB_HOME not set: point it at the PolarDB-PG 15 engines bundle (with pfsd/bin/pfs)");
        }
        Path bin = bin();
        for (String tool : new String[] {"pfs", "pfsdaemon", "start_pfsd.sh", "stop_pfsd.sh"}) {
            if (!Files.isExecutable(bin.resolve(tool))) {
                return Optional.of("no executable " + bin.resolve(tool) + " (POLARDB_HOME=" + home
                        + " is not the engines bundle with PFS)");
            }
        }
        try (CommandExecutor local = Executors.local()) {
            for (String tool : new String[] {"pfs", "pfsdaemon"}) {
                CommandResult ldd = local.execute(Command.of("ldd", bin.resolve(tool).toString())
                        .withTimeout(Duration.ofSeconds(30)));
                if (ldd.stdout().contains("libaio.so.1 => not found")) {
                    return Optional.of(tool + " cannot load libaio.so.1: install Debian's libaio1 (.ci/setup.d/30-pfs.sh does)");
                }
                if (!ldd.succeeded() || ldd.stdout().contains("not found")) {
                    return Optional.of(tool + " misses a shared library: " + ldd.stdout().strip());
                }
            }
        }
        return Optional.empty();
    }

    /** Disables a test class, with the reason, where {@link #missing()} names one. */
    static final class Required implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return missing().map(ConditionEvaluationResult::disabled)
                    .orElseGet(() -> ConditionEvaluationResult.enabled("PFS tools, libaio and loop devices are here"));
        }
    }

    /**
     * The host-wide directories the PFS tools create on first use ({@code start_pfsd.sh}: /var/run/pfs,
     * /var/run/pfsd, /dev/shm/pfsd; {@code PfsClient.mkfs}: /var/run/pfs). Once /var/run/pfsd exists, every
     * {@code pfs} command for a device without a pfsd waits 3.7 s for a daemon that is not there, so
     * a test class removes the ones it created, when no pfsdaemon runs any more.
     */
    static final class HostDirs {
        private static final List<Path> DIRS = List.of(Path.of("/var/run/pfsd"), Path.of("/dev/shm/pfsd"),
                Path.of("/var/run/pfs"));
        private final List<Path> absent;

        private HostDirs(List<Path> absent) {
            this.absent = absent;
        }

        static HostDirs before() {
            return new HostDirs(DIRS.stream().filter(d -> !Files.exists(d)).toList());
        }

        /** Removes the directories this class created once no pfsdaemon runs; waits up to 10 s for that
         * (shutdown hooks run in no order: the loop devices' hooks may still be stopping theirs). */
        void restore(CommandExecutor local) {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            boolean daemons;
            while ((daemons = ProcessHandle.allProcesses().anyMatch(h -> h.info().commandLine()
                    .map(c -> c.contains("pfsdaemon -p ")).orElse(false))) && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (!daemons) {
                for (Path d : absent) {
                    local.execute(Command.of("rm", "-rf", "--", d.toString()));
                }
            }
        }
    }

    /**
     * Runs {@code cleanUp} once: when the returned handle is closed ({@code @AfterAll}), or from a JVM
     * shutdown hook if the test JVM is ended first.
     */
    static AutoCloseable atExit(String name, Runnable cleanUp) {
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable once = () -> {
            if (done.compareAndSet(false, true)) {
                cleanUp.run();
            }
        };
        Thread hook = new Thread(once, name);
        Runtime.getRuntime().addShutdownHook(hook);
        return () -> {
            once.run();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway and does nothing more
            }
        };
    }

    /** The engines' tools as {@link Pfs}: cluster {@code disk}, one pfsd worker (it busy-polls a CPU). */
    static Pfs pfs(Path bin) {
        return Pfs.builder().clusterName("disk").pfsCommand(bin.resolve("pfs").toString()).pfsdBinDir(bin)
                .workers(1).timeout(Duration.ofMinutes(2)).build();
    }
}
