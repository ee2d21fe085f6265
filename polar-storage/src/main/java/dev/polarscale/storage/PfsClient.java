package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
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
 * client.ensureDaemonRunning(dev);                      // start_pfsd.sh -p nvme1n1 -w 4 unless running
 * PfsPath shared = PfsPath.root(dev).resolve("shared_data");
 * if (!client.exists(shared)) {
 *     client.mkdir(shared);                             // pfs -C disk mkdir /nvme1n1/shared_data
 * }
 * List<String> names = client.ls(shared);               // pfs -C disk ls /nvme1n1/shared_data/
 * }</pre>
 *
 * <p>Commands, as the PolarDB-FileSystem scripts expect them:
 * <ul>
 *   <li>{@code start_pfsd.sh -p <dev> -w <n>}: the script reads the device from its second
 *       argument, so {@code -p <dev>} comes first; it exits 1 when a pfsd for the device already runs.</li>
 *   <li>{@code stop_pfsd.sh <dev>}: the device is the first positional argument (no {@code -p});
 *       without an argument the script kills every pfsdaemon on the host, so this class never calls it so.</li>
 *   <li>"running" is {@code pgrep -f '[p]fsdaemon -p <dev>( |$)'}: pfsd runs as
 *       {@code pfsdaemon -p <dev> -w <n> -c ...}; the bracket keeps the pattern from matching the
 *       command line of a shell that carries the pattern itself (SSH), and {@code ( |$)} keeps
 *       {@code nvme1n1} from matching {@code nvme1n10}.</li>
 *   <li>"formatted" is {@code pfs -C <cluster> ls /<dev>/} exiting 0 (a PFS root always lists
 *       {@code .pfs-paxos} and {@code .pfs-journal}).</li>
 * </ul>
 */
public final class PfsClient {
    private static final Logger LOG = LoggerFactory.getLogger(PfsClient.class);

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

    private Command pfsCommand(String... args) {
        List<String> argv = new ArrayList<>(List.of(pfs.pfsCommand(), "-C", pfs.clusterName()));
        argv.addAll(List.of(args));
        return Command.of(argv).withTimeout(pfs.timeout()).privileged();
    }

    /**
     * The entry names of a PFS directory ({@code pfs ls}), without the {@code total} line.
     *
     * @throws StorageException the directory cannot be listed (missing, no PFS, tool missing)
     */
    public List<String> ls(PfsPath dir) {
        CommandResult r = executor.execute(pfsCommand("ls", dir.asDirectory()));
        if (!r.succeeded()) {
            throw new StorageException(StorageException.Reason.STORAGE_INVALID, executor.host(), executor.host() + " - cannot list PFS directory " + dir.asDirectory()
                    + " (pfs ls exited " + r.exitCode() + "): " + tail(r));
        }
        return parseLs(r.stdout());
    }

    /** Whether {@code pfs ls} succeeds on the path (a directory or a file). Tool failures (126, 127) throw. */
    public boolean exists(PfsPath path) {
        CommandResult r = executor.execute(pfsCommand("ls", path.toString()));
        requireTool(r, "ls");
        return r.succeeded();
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

    /**
     * Whether the device already holds a PFS file system: {@code pfs ls /<dev>/} exits 0. Any other
     * exit is read as "not formatted", except 126/127 (the {@code pfs} tool itself is missing),
     * which throw. A device PFS cannot read for another reason (pfsd conflicts, I/O errors) thus
     * looks unformatted: {@link #mkfs} logs the probe's output before it formats.
     */
    public boolean isFormatted(DeviceName device) {
        CommandResult r = executor.execute(pfsCommand("ls", PfsPath.root(device).asDirectory()));
        requireTool(r, "ls");
        if (!r.succeeded()) {
            LOG.info("{} - no PFS on {}: pfs ls exited {}: {}", executor.host(), device, r.exitCode(), tail(r));
        }
        return r.succeeded();
    }

    /**
     * Formats the device as PFS ({@code pfs -C <cluster> mkfs [-f] <dev>}): DESTROYS every byte on
     * it. Only step A2 (the first node of a new cluster) calls this; scale-out never does.
     * With {@link MkfsMode#REFUSE_IF_FORMATTED} an existing PFS is a {@link StorageException} and
     * nothing runs; {@link MkfsMode#FORCE_DESTROYING_EXISTING} formats anyway and passes
     * {@code -f} (PFS's own "force").
     */
    public void mkfs(DeviceName device, MkfsMode mode) {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(mode, "mode");
        long start = System.nanoTime();
        boolean formatted = isFormatted(device);
        Command c;
        if (formatted && mode == MkfsMode.REFUSE_IF_FORMATTED) {
            throw new StorageException(StorageException.Reason.DEVICE_NOT_EMPTY, executor.host(), executor.host() + " - refusing to format " + device.devicePath()
                    + ": it already holds a PFS file system (pfs -C " + pfs.clusterName() + " ls /" + device
                    + "/ succeeds); pass MkfsMode.FORCE_DESTROYING_EXISTING to destroy it");
        }
        if (formatted) {
            LOG.warn("{} - FORMATTING {} OVER AN EXISTING PFS (forced): all data on it is lost", executor.host(),
                    device.devicePath());
            c = pfsCommand("mkfs", "-f", device.name());
        } else {
            c = pfsCommand("mkfs", device.name());
        }
        executor.run(c);
        LOG.info("{} - formatted {} as PFS in {} ms", executor.host(), device.devicePath(), ms(start));
    }

    /** Whether a pfsdaemon for this device runs on the host ({@code pgrep -f}; see the class comment). */
    public boolean isDaemonRunning(DeviceName device) {
        CommandResult r = executor.execute(Command.of("pgrep", "-f", daemonPattern(device))
                .withTimeout(Duration.ofSeconds(30)));
        if (r.exitCode() == 0) {
            return true;
        }
        if (r.exitCode() == 1) {
            return false;
        }
        throw new StorageException(StorageException.Reason.COMMAND_FAILED, executor.host(), executor.host() + " - cannot tell whether pfsd runs for " + device
                + " (pgrep exited " + r.exitCode() + "): " + tail(r));
    }

    /** The {@code pgrep -f} pattern for the device's pfsdaemon. */
    public static String daemonPattern(DeviceName device) {
        return "[p]fsdaemon -p " + device.name().replace(".", "\\.").replace("+", "\\+") + "( |$)";
    }

    /** Starts pfsd for the device ({@code start_pfsd.sh -p <dev> -w <n>}); fails if one already runs. */
    public void startDaemon(DeviceName device) {
        long start = System.nanoTime();
        executor.run(Command.of(pfs.startScript().toString(), "-p", device.name(), "-w",
                Integer.toString(pfs.workers())).withTimeout(pfs.timeout()).privileged());
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
            throw new StorageException(StorageException.Reason.STORAGE_INVALID, executor.host(), executor.host() + " - start_pfsd.sh succeeded but no pfsdaemon for "
                    + device + " is running");
        }
        return true;
    }

    /** Entry names from {@code pfs ls} output: the last field of each entry line; {@code total ...} skipped. */
    static List<String> parseLs(String stdout) {
        List<String> names = new ArrayList<>();
        for (String raw : stdout.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("total ")) {
                continue;
            }
            // type, links, size, weekday, month, day, time, year, name (the name may hold spaces)
            String[] f = line.split("\\s+", 9);
            if (f.length < 9 || !(f[0].equals("File") || f[0].equals("Dir"))) {
                throw new StorageException(StorageException.Reason.OTHER, null, "unexpected line in pfs ls output: '" + raw + "'");
            }
            names.add(f[8]);
        }
        return List.copyOf(names);
    }

    private void requireTool(CommandResult r, String what) {
        if (r.exitCode() == 126 || r.exitCode() == 127) {
            throw new StorageException(StorageException.Reason.BINARIES_MISSING, executor.host(), executor.host() + " - cannot run " + pfs.pfsCommand() + " " + what
                    + " (exit " + r.exitCode() + "): " + tail(r));
        }
    }

    private static String tail(CommandResult r) {
        String t = r.stderrTail(3).strip();
        return t.isEmpty() ? CommandResult.tail(r.stdout(), 3).strip() : t;
    }

    private static long ms(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos).toMillis();
    }
}
