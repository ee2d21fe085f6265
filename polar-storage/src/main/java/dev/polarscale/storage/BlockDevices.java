package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.storage.internal.LsblkParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The block devices of one host, read with {@code lsblk} through a {@link CommandExecutor}
 * (steps A1 and B1: "the storage is visible on this host").
 *
 * <p>It runs {@code lsblk -J -b -o NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT}; when that exits
 * non-zero (util-linux before 2.27 has no {@code -J}) it falls back to
 * {@code lsblk -b -P -o NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT,PKNAME}. Output that cannot be
 * read exactly is a {@link StorageException}, never a guess.
 *
 * <pre>{@code
 * try (CommandExecutor host = Executors.local()) {
 *     BlockDevice disk = BlockDevices.on(host)
 *             .requireUsable(DeviceName.of("/dev/nvme1n1"), 100L * 1024 * 1024 * 1024);
 *     // a whole disk, writable, at least 100 GiB, nothing on it mounted by the OS
 * }
 * }</pre>
 */
public final class BlockDevices {
    private static final Logger LOG = LoggerFactory.getLogger(BlockDevices.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final CommandExecutor executor;

    private BlockDevices(CommandExecutor executor) {
        this.executor = Objects.requireNonNull(executor, "executor");
    }

    /** The block devices of the host {@code executor} runs on. */
    public static BlockDevices on(CommandExecutor executor) {
        return new BlockDevices(executor);
    }

    /** Runs {@code lsblk} and returns the top-level devices, each with the devices stacked on it. */
    public List<BlockDevice> list() {
        long start = System.nanoTime();
        CommandResult json = executor.execute(
                Command.of("lsblk", "-J", "-b", "-o", LsblkParser.COLUMNS).withTimeout(TIMEOUT));
        List<BlockDevice> devices;
        if (json.succeeded()) {
            devices = parse(() -> LsblkParser.parseJson(json.stdout()), "lsblk -J");
        } else {
            LOG.info("{} - lsblk -J exited {} ({}); reading lsblk -P instead", executor.host(), json.exitCode(),
                    json.stderrTail(1).strip());
            CommandResult pairs = executor.execute(Command.of("lsblk", "-b", "-P", "-o",
                    LsblkParser.COLUMNS + ",PKNAME").withTimeout(TIMEOUT));
            if (!pairs.succeeded()) {
                throw new StorageException(StorageException.Reason.COMMAND_FAILED, executor.host(), executor.host() + " - cannot list block devices: lsblk -J exited "
                        + json.exitCode() + " (" + json.stderrTail(3).strip() + "), lsblk -P exited "
                        + pairs.exitCode() + " (" + pairs.stderrTail(3).strip() + ")");
            }
            devices = parse(() -> LsblkParser.parsePairs(pairs.stdout()), "lsblk -P");
        }
        LOG.info("{} - listed {} block devices in {} ms", executor.host(), devices.size(),
                Duration.ofNanos(System.nanoTime() - start).toMillis());
        return devices;
    }

    private List<BlockDevice> parse(java.util.function.Supplier<List<BlockDevice>> parser, String what) {
        try {
            return parser.get();
        } catch (IllegalArgumentException e) {
            throw new StorageException(StorageException.Reason.OTHER, executor.host(), executor.host() + " - cannot read the output of " + what + ": "
                    + e.getMessage(), e);
        }
    }

    /** The device with this kernel name, at any depth (a partition is found too). */
    public Optional<BlockDevice> find(DeviceName name) {
        Objects.requireNonNull(name, "name");
        return find(list(), name);
    }

    private static Optional<BlockDevice> find(List<BlockDevice> devices, DeviceName name) {
        for (BlockDevice d : devices) {
            Optional<BlockDevice> f = d.find(name);
            if (f.isPresent()) {
                return f;
            }
        }
        return Optional.empty();
    }

    /**
     * The device, checked for use as PFS shared storage: present, a whole disk ({@code TYPE disk}),
     * writable ({@code RO 0}), at least {@code minimumBytes} large, and neither it nor anything on
     * it mounted by the OS.
     *
     * @throws StorageException naming the device, the host and the first rule it breaks
     */
    public BlockDevice requireUsable(DeviceName name, long minimumBytes) {
        Objects.requireNonNull(name, "name");
        if (minimumBytes < 0) {
            throw new IllegalArgumentException("minimumBytes must not be negative: " + minimumBytes);
        }
        List<BlockDevice> all = list();
        BlockDevice d = find(all, name).orElseThrow(() -> new StorageException(StorageException.Reason.DEVICE_UNSUITABLE, executor.host(), problem(name,
                "is not listed by lsblk (devices: " + names(all) + ")")));
        if (!d.isDisk()) {
            throw new StorageException(StorageException.Reason.DEVICE_UNSUITABLE, executor.host(), problem(name, "is of TYPE " + d.type() + ", not a whole disk (TYPE disk)"));
        }
        if (d.readOnly()) {
            throw new StorageException(StorageException.Reason.DEVICE_UNSUITABLE, executor.host(), problem(name, "is read-only (RO=1)"));
        }
        if (d.sizeBytes() < minimumBytes) {
            throw new StorageException(StorageException.Reason.DEVICE_UNSUITABLE, executor.host(), problem(name, "has " + d.sizeBytes() + " bytes, at least " + minimumBytes
                    + " are needed"));
        }
        List<String> mounted = d.mountedPaths();
        if (!mounted.isEmpty()) {
            throw new StorageException(StorageException.Reason.DEVICE_UNSUITABLE, executor.host(), problem(name, "is mounted by the OS (" + String.join(", ", mounted)
                    + "); PFS needs a device nothing else uses"));
        }
        LOG.info("{} - block device {} is usable: {} bytes, unmounted", executor.host(), name, d.sizeBytes());
        return d;
    }

    private String problem(DeviceName name, String why) {
        return executor.host() + " - block device " + name.devicePath() + " " + why;
    }

    private static String names(List<BlockDevice> devices) {
        List<String> out = new ArrayList<>();
        for (BlockDevice d : devices) {
            d.walk(x -> out.add(x.name()));
        }
        return out.isEmpty() ? "none" : String.join(", ", out);
    }
}
