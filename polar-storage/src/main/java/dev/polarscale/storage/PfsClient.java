package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.PolarException.Reason;
import dev.polarscale.storage.internal.Blkid;
import dev.polarscale.storage.internal.PfsOutput;
import dev.polarscale.storage.internal.PfsTrace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The PFS tools on one host. Every {@code pfs} command and both pfsd scripts run
 * {@linkplain Command#privileged() privileged}, as the tutorial runs them with {@code sudo}.
 *
 * <pre>{@code
 * PfsClient client = Pfs.builder().clusterName("disk").build().on(executor);
 * DeviceName dev = DeviceName.of("nvme1n1");
 * client.mkfs(dev, MkfsMode.REFUSE_IF_FORMATTED);        // formats only a provably empty device
 * client.requireRoomForPrimary(dev);                     // pfs info: enough blocks and inodes for initdb
 * client.ensureDaemonRunning(dev);                      // start_pfsd.sh -p nvme1n1 -w 4 unless running
 * PfsPath shared = PfsPath.root(dev).resolve("shared_data");
 * if (!client.exists(shared)) {
 *     client.mkdir(shared);                             // pfs -C disk mkdir /nvme1n1/shared_data
 * }
 * List<String> names = client.ls(shared);               // pfs -C disk ls /nvme1n1/shared_data/
 * }</pre>
 *
 * <p>What the PFS tools do, as observed with PolarDB-FileSystem d0c5dc6 (the facts the code relies on):
 * <ul>
 *   <li>{@code pfs} writes its diagnostics not to standard error but to {@code /var/log/pfs-<disk>.log}
 *       once it mounts the disk; its errors on standard output are one line ({@code ls failed: No such
 *       file or directory}). Probes therefore run through {@link PfsTrace}, which returns the log lines
 *       of that very process.</li>
 *   <li>On an unformatted device {@code pfs ls /<disk>/} prints nothing and exits 5 (EIO); its trace
 *       says {@code pfs magic mismatch 0 vs 0x5046534348} and {@code pfs mismatch occurs in chunk 0.
 *       Make sure mkfs has run!}. It says the same on a device holding ext4 (the ext4 superblock is
 *       at byte 1024, PFS's chunk header is zero there), so "no PFS" is not "empty": {@code blkid -p}
 *       decides that. A device it cannot read exits 255 ({@code cant open /dev/...}, or
 *       {@code io failed! error: -5}).</li>
 *   <li>Without {@code -E 0} a {@code pfs} command first tries the device's pfsd; where
 *       {@code /var/run/pfsd} exists but no pfsd serves the device it waits 3.7 s for that to time out.
 *       A pfsd running for an unformatted device dies ({@code Make sure mkfs has run!}) the first time a
 *       client asks it to mount. The probes use {@code -E 0}: a direct, read-only look at the device.</li>
 *   <li>{@code pfs mkfs} without {@code -f} refuses a formatted device itself (exit 16, EBUSY), needs
 *       {@code /var/run/pfs} (else it fails with {@code mkfs failed: No such file or directory}), and
 *       refuses a device below 10 GiB ({@code pbd disk size must be greater than 10GB!}).</li>
 *   <li>{@code pfs ls} lists directories only ({@code ls failed: Not a directory} on a file);
 *       {@link #exists} uses {@code pfs stat}.</li>
 *   <li>{@code start_pfsd.sh -p <dev> -w <n>} reads the device from its second argument, exits 1 when a
 *       pfsd for the device already runs, and leaves {@code pfsdaemon} holding its standard output: it
 *       runs with its output in {@code /var/log/pfsd-<dev>.start.log}, which is then printed. Its pid
 *       file can hold the pid of a process that forked the daemon (or digits left from an older, longer
 *       pid): "running" is {@code pgrep -f '[p]fsdaemon -p <dev>( |$)'} instead. The bracket keeps the
 *       pattern from matching a shell that carries it (SSH); {@code ( |$)} keeps {@code nvme1n1} from
 *       matching {@code nvme1n10}.</li>
 *   <li>{@code stop_pfsd.sh <dev>}: the device is the first plain argument (no {@code -p}); without an
 *       argument the script kills every pfsdaemon on the host, so this class never calls it so.</li>
 * </ul>
 */
public final class PfsClient {
    /**
     * Data blocks (4 MiB) a primary's {@code initdb} plus {@code polar-initdb.sh primary} needs on PFS:
     * 1,293 were used on PolarDB-PG 15.8.2.0 (5.05 GiB, the 1 GiB WAL segment included); this adds one
     * more 1 GiB WAL segment (256 blocks).
     */
    public static final long PRIMARY_INITDB_BLOCKS = 1550;

    /** Files (inodes and directory entries) that step needs: 1,273 were used; this adds 10 %. */
    public static final long PRIMARY_INITDB_FILES = 1400;

    private static final Logger LOG = LoggerFactory.getLogger(PfsClient.class);
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final String RUN_DIR = "/var/run/pfs";
    /** Runs a daemon-starting script with its output in a file ($1), then prints the file. */
    private static final String DETACHED = """
            log=$1; shift
            "$@" </dev/null >"$log" 2>&1; rc=$?
            cat -- "$log"
            exit "$rc"
            """;
    private static final String NO_PFS = "pfs mismatch occurs in chunk 0. Make sure mkfs has run!";
    private static final String ZERO_MAGIC = "pfs magic mismatch 0 vs ";

    private final Pfs pfs;
    private final CommandExecutor executor;

    PfsClient(Pfs pfs, CommandExecutor executor) {
        this.pfs = Objects.requireNonNull(pfs, "pfs");
        this.executor = Objects.requireNonNull(executor, "executor");
    }

    public Pfs pfs() {
        return pfs;
    }

    public CommandExecutor executor() {
        return executor;
    }

    private List<String> pfsArgv(String... args) {
        List<String> argv = new ArrayList<>(List.of(pfs.pfsCommand(), "-C", pfs.clusterName()));
        argv.addAll(List.of(args));
        return argv;
    }

    private Command pfsCommand(String... args) {
        return Command.of(pfsArgv(args)).withTimeout(pfs.timeout()).privileged();
    }

    private PfsTrace.Traced traced(DeviceName disk, String what, List<String> argv) {
        CommandResult r = executor.execute(Command.of(PfsTrace.argv(disk, argv)).withTimeout(pfs.timeout())
                .privileged());
        requireTool(r, what);
        return PfsTrace.parse(r);
    }

    /**
     * The entry names of a PFS directory ({@code pfs ls}), without the {@code total} line.
     *
     * @throws StorageException the directory cannot be listed (missing, no PFS, tool missing)
     */
    public List<String> ls(PfsPath dir) {
        CommandResult r = executor.execute(pfsCommand("ls", dir.asDirectory()));
        requireTool(r, "ls");
        if (!r.succeeded()) {
            throw new StorageException(Reason.STORAGE_INVALID, executor.host(), executor.host() + " - cannot list PFS directory "
                    + dir.asDirectory() + " (pfs ls exited " + r.exitCode() + "): " + Blkid.outputTail(r));
        }
        return PfsOutput.parseLs(r.stdout());
    }

    /**
     * Whether the path (a file or a directory) exists: {@code pfs stat} exits 0, or fails with
     * {@code No such file or directory}. Any other failure is a {@link StorageException}, not a "no".
     */
    public boolean exists(PfsPath path) {
        CommandResult r = executor.execute(pfsCommand("stat", path.toString()));
        requireTool(r, "stat");
        if (r.succeeded()) {
            return true;
        }
        if (r.stdout().contains("No such file or directory")) {
            return false;
        }
        throw new StorageException(Reason.DEVICE_STATE_UNKNOWN, executor.host(), executor.host()
                + " - cannot tell whether PFS path " + path + " exists (pfs stat exited " + r.exitCode() + "): " + Blkid.outputTail(r));
    }

    /** Creates one directory ({@code pfs mkdir}, no {@code -p}). */
    public void mkdir(PfsPath dir) {
        if (dir.isRoot()) {
            throw new IllegalArgumentException("cannot mkdir the PFS disk root " + dir);
        }
        long start = System.nanoTime();
        executor.run(pfsCommand("mkdir", dir.toString()));
        LOG.info("{} - created PFS directory {} in {} ms", executor.host(), dir, ms(start));
    }

    /** What a direct {@code pfs -E 0 ls /<disk>/} found. */
    private enum Found { PFS, NO_PFS, OTHER_DATA, UNKNOWN }

    private record Probe(Found found, PfsTrace.Traced traced, String command) {
    }

    private Probe probePfs(DeviceName device) {
        List<String> argv = pfsArgv("-E", "0", "ls", PfsPath.root(device).asDirectory());
        PfsTrace.Traced t = traced(device, "ls", argv);
        Found found;
        if (t.result().succeeded()) {
            found = Found.PFS;
        } else if (t.result().exitCode() == 5 && t.traced(NO_PFS)) {
            found = t.traced(ZERO_MAGIC) ? Found.NO_PFS : Found.OTHER_DATA;
        } else {
            found = Found.UNKNOWN;
        }
        LOG.debug("{} - {} on {}: {} ({})", executor.host(), String.join(" ", argv), device, found, t.summary());
        return new Probe(found, t, String.join(" ", argv.subList(1, argv.size())));
    }

    /**
     * Whether the device holds a PFS file system, read directly from the device ({@code pfs -E 0 ls /<dev>/}):
     * {@code true} when it lists the root, {@code false} when PFS answers that chunk 0 is not PFS
     * (exit 5, {@code Make sure mkfs has run!}; the device may still hold another file system).
     *
     * @throws StorageException {@link Reason#DEVICE_STATE_UNKNOWN} for any other answer (the device is
     *                          missing or unreadable), with the probe's output; {@link Reason#BINARIES_MISSING}
     *                          when {@code pfs} cannot run
     */
    public boolean isFormatted(DeviceName device) {
        Objects.requireNonNull(device, "device");
        Probe p = probePfs(device);
        return switch (p.found()) {
            case PFS -> true;
            case NO_PFS, OTHER_DATA -> false;
            case UNKNOWN -> throw new StorageException(Reason.DEVICE_STATE_UNKNOWN, executor.host(), executor.host()
                    + " - cannot tell whether " + device.devicePath() + " holds a PFS file system: pfs " + p.command()
                    + " gave " + p.traced().summary());
        };
    }

    /**
     * Formats the device as PFS ({@code pfs -C <cluster> mkfs [-f] <dev>}): DESTROYS every byte on it.
     * Only step A2 (the first node of a new cluster) calls this; scale-out never does.
     *
     * <p>In both modes it first refuses a device a pfsd runs for (formatting under a running pfsd
     * leaves it with the old file system's metadata), with {@link Reason#DEVICE_STATE_UNKNOWN}.
     *
     * <p>{@link MkfsMode#REFUSE_IF_FORMATTED} formats only on positive evidence that the device is
     * empty: {@code blkid -p} finds no file system or partition table signature (it exits 2), AND
     * {@code pfs -E 0 ls /<dev>/} fails with PFS's own "no file system" answer (exit 5, chunk 0 magic
     * 0). A signature, a PFS, or other data in chunk 0 is {@link Reason#DEVICE_NOT_EMPTY}; any other
     * answer (a device that is missing or cannot be read, an unexpected exit) is
     * {@link Reason#DEVICE_STATE_UNKNOWN}; each message holds what the probe said. Nothing is written then.
     *
     * <p>{@link MkfsMode#FORCE_DESTROYING_EXISTING} formats anyway and passes {@code -f} (PFS's own
     * "force", without which {@code pfs mkfs} refuses a PFS itself) unless PFS answered "no file system".
     */
    public void mkfs(DeviceName device, MkfsMode mode) {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(mode, "mode");
        long start = System.nanoTime();
        List<String> pids = daemonPids(device);
        if (!pids.isEmpty()) {
            throw new StorageException(Reason.DEVICE_STATE_UNKNOWN, executor.host(), executor.host()
                    + " - refusing to format " + device.devicePath() + ": pfsd runs for it (pid " + String.join(", ", pids)
                    + "); a running pfsd keeps the mounted file system's metadata: stop it first (stop_pfsd.sh "
                    + device + ")");
        }
        boolean force;
        if (mode == MkfsMode.REFUSE_IF_FORMATTED) {
            requireNoSignature(device);
            Probe p = probePfs(device);
            switch (p.found()) {
                case PFS -> throw new StorageException(Reason.DEVICE_NOT_EMPTY, executor.host(), executor.host()
                        + " - refusing to format " + device.devicePath() + ": it already holds a PFS file system (pfs -C "
                        + pfs.clusterName() + " ls /" + device + "/ succeeds); pass MkfsMode.FORCE_DESTROYING_EXISTING to destroy it");
                case OTHER_DATA -> throw new StorageException(Reason.DEVICE_NOT_EMPTY, executor.host(), executor.host()
                        + " - refusing to format " + device.devicePath() + ": its first bytes hold data that is not PFS (pfs "
                        + p.command() + " gave " + p.traced().summary()
                        + "); pass MkfsMode.FORCE_DESTROYING_EXISTING to destroy it");
                case UNKNOWN -> throw new StorageException(Reason.DEVICE_STATE_UNKNOWN, executor.host(), executor.host()
                        + " - refusing to format " + device.devicePath() + ": cannot tell whether it is empty: pfs "
                        + p.command() + " did not answer \"no file system\" (exit 5, chunk 0 magic 0) but gave "
                        + p.traced().summary());
                case NO_PFS -> {
                }
            }
            force = false;
        } else {
            Probe p = probePfs(device);
            force = p.found() != Found.NO_PFS;
            LOG.warn("{} - FORMATTING {} (forced{}): whatever it holds is lost; pfs {} found {}", executor.host(),
                    device.devicePath(), force ? ", -f" : "", p.command(), p.found());
        }
        executor.run(Command.of("mkdir", "-p", RUN_DIR).withTimeout(SHORT).privileged());
        executor.run(force ? pfsCommand("mkfs", "-f", device.name()) : pfsCommand("mkfs", device.name()));
        LOG.info("{} - formatted {} as PFS in {} ms", executor.host(), device.devicePath(), ms(start));
    }

    /** {@code blkid -p}: exit 2 with no output is "no signature"; a signature or any doubt throws. */
    private void requireNoSignature(DeviceName device) {
        Blkid.probe(executor, device, "refusing to format").ifPresent(sig -> {
            throw new StorageException(Reason.DEVICE_NOT_EMPTY, executor.host(), executor.host() + " - refusing to format "
                    + device.devicePath() + ": it holds " + sig.describe()
                    + "; pass MkfsMode.FORCE_DESTROYING_EXISTING to destroy it");
        });
    }

    /**
     * Removes a file or a whole directory tree ({@code pfs -C <cluster> rm -r <path>}): its data is
     * lost. PFS itself refuses the disk root and its own journal and paxos files.
     */
    public void remove(PfsPath path) {
        if (path.isRoot()) {
            throw new IllegalArgumentException("refusing to remove the PFS disk root " + path);
        }
        long start = System.nanoTime();
        executor.run(pfsCommand("rm", "-r", path.toString()));
        LOG.info("{} - removed PFS path {} in {} ms", executor.host(), path, ms(start));
    }

    /**
     * The file system's capacity ({@code pfs -C <cluster> info <dev>}, read directly from the device).
     *
     * @throws StorageException {@link Reason#STORAGE_INVALID} when the device holds no PFS,
     *                          {@link Reason#DEVICE_STATE_UNKNOWN} when it cannot be read
     */
    public PfsInfo info(DeviceName device) {
        Objects.requireNonNull(device, "device");
        PfsTrace.Traced t = traced(device, "info", pfsArgv("info", device.name()));
        if (!t.result().succeeded()) {
            boolean noPfs = t.result().exitCode() == 5 && t.traced(NO_PFS);
            throw new StorageException(noPfs ? Reason.STORAGE_INVALID : Reason.DEVICE_STATE_UNKNOWN, executor.host(),
                    executor.host() + " - cannot read the PFS capacity of " + device.devicePath()
                            + (noPfs ? ": it holds no PFS file system (" : ": pfs info gave (") + t.summary() + ")");
        }
        try {
            return PfsOutput.parseInfo(device, t.result().stdout());
        } catch (IllegalArgumentException e) {
            throw new StorageException(Reason.OTHER, executor.host(), executor.host() + " - cannot read the output of pfs info "
                    + device + ": " + e.getMessage(), e);
        }
    }

    /**
     * The file system's capacity, checked to hold {@code blocks} more 4 MiB data blocks and
     * {@code files} more files.
     *
     * @throws StorageException {@link Reason#DEVICE_UNSUITABLE} naming what is free and what is needed
     */
    public PfsInfo requireRoom(DeviceName device, long blocks, long files) {
        if (blocks < 0 || files < 0) {
            throw new IllegalArgumentException("blocks and files must not be negative: " + blocks + ", " + files);
        }
        PfsInfo info = info(device);
        if (info.freeBlocks() < blocks || info.freeFiles() < files) {
            throw new StorageException(Reason.DEVICE_UNSUITABLE, executor.host(), executor.host() + " - PFS on "
                    + device.devicePath() + " has " + info.freeBlocks() + " free 4 MiB blocks (" + gib(info.freeBytes())
                    + ") and room for " + info.freeFiles() + " files (of " + info.blocks() + " blocks, " + info.chunks()
                    + " chunks of 10 GiB); " + blocks + " blocks (" + gib(blocks * PfsInfo.BLOCK_BYTES) + ") and " + files
                    + " files are needed");
        }
        LOG.info("{} - PFS on {} has room: {} free blocks ({}), {} free files; {} blocks and {} files needed",
                executor.host(), device, info.freeBlocks(), gib(info.freeBytes()), info.freeFiles(), blocks, files);
        return info;
    }

    /**
     * {@link #requireRoom} for what a new primary puts on the shared storage:
     * {@link #PRIMARY_INITDB_BLOCKS} blocks and {@link #PRIMARY_INITDB_FILES} files. Call it before
     * deploying a primary; it writes nothing.
     */
    public PfsInfo requireRoomForPrimary(DeviceName device) {
        return requireRoom(device, PRIMARY_INITDB_BLOCKS, PRIMARY_INITDB_FILES);
    }

    /** Whether a pfsdaemon for this device runs on the host ({@code pgrep -f}; see the class comment). */
    public boolean isDaemonRunning(DeviceName device) {
        return !daemonPids(device).isEmpty();
    }

    private List<String> daemonPids(DeviceName device) {
        CommandResult r = executor.execute(Command.of("pgrep", "-f", daemonPattern(device)).withTimeout(SHORT));
        if (r.exitCode() == 0) {
            List<String> pids = new ArrayList<>();
            for (String line : r.stdout().split("\n")) {
                if (!line.isBlank()) {
                    pids.add(line.strip());
                }
            }
            return pids.isEmpty() ? List.of("?") : List.copyOf(pids);
        }
        if (r.exitCode() == 1) {
            return List.of();
        }
        throw new StorageException(Reason.COMMAND_FAILED, executor.host(), executor.host() + " - cannot tell whether pfsd runs for " + device
                + " (pgrep exited " + r.exitCode() + "): " + Blkid.outputTail(r));
    }

    /** The {@code pgrep -f} pattern for the device's pfsdaemon. */
    public static String daemonPattern(DeviceName device) {
        return "[p]fsdaemon -p " + device.name().replace(".", "\\.").replace("+", "\\+") + "( |$)";
    }

    /**
     * Starts pfsd for the device ({@code start_pfsd.sh -p <dev> -w <n>}, its output through
     * {@code /var/log/pfsd-<dev>.start.log}); fails if one already runs.
     */
    public void startDaemon(DeviceName device) {
        long start = System.nanoTime();
        executor.run(Command.of("sh", "-c", DETACHED, "sh", "/var/log/pfsd-" + device.name() + ".start.log",
                pfs.startScript().toString(), "-p", device.name(), "-w", Integer.toString(pfs.workers()))
                .withTimeout(pfs.timeout()).privileged());
        LOG.info("{} - started pfsd for {} with {} workers in {} ms", executor.host(), device, pfs.workers(),
                ms(start));
    }

    /** Stops the device's pfsd ({@code stop_pfsd.sh <dev>}); the script fails when none runs. */
    public void stopDaemon(DeviceName device) {
        long start = System.nanoTime();
        executor.run(Command.of(pfs.stopScript().toString(), device.name()).withTimeout(pfs.timeout())
                .privileged());
        LOG.info("{} - stopped pfsd for {} in {} ms", executor.host(), device, ms(start));
    }

    /**
     * Starts pfsd for the device unless it runs already (steps A3, B2; never formats).
     *
     * @return {@code true} if this call started it
     */
    public boolean ensureDaemonRunning(DeviceName device) {
        if (isDaemonRunning(device)) {
            LOG.info("{} - pfsd for {} already running", executor.host(), device);
            return false;
        }
        startDaemon(device);
        if (!isDaemonRunning(device)) {
            throw new StorageException(Reason.STORAGE_INVALID, executor.host(), executor.host() + " - start_pfsd.sh succeeded but no pfsdaemon for "
                    + device + " is running");
        }
        return true;
    }

    private void requireTool(CommandResult r, String what) {
        if (r.exitCode() == 126 || r.exitCode() == 127) {
            throw new StorageException(Reason.BINARIES_MISSING, executor.host(), executor.host() + " - cannot run "
                    + pfs.pfsCommand() + " " + what + " (exit " + r.exitCode() + "): " + Blkid.outputTail(r));
        }
    }

    private static String gib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }

    private static long ms(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos).toMillis();
    }
}
