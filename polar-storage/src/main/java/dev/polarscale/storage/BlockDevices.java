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
import java.util.Set;
import java.util.TreeSet;

/**
 * The block devices of one host, read with {@code lsblk} through a {@link CommandExecutor}
 * (steps A1 and B1: "the storage is visible on this host").
 *
 * <p>It runs {@code lsblk -b -P -o NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT,PKNAME} ({@code KEY="value"}
 * pairs, the one output form every util-linux release prints the same way). Output that cannot
 * be read exactly is a {@link StorageException}, never a guess.
 *
 * <pre>{@code
 * try (CommandExecutor host = Executors.local()) {
 *     BlockDevice disk = BlockDevices.on(host)
 *             .requireUsable(DeviceName.of("/dev/nvme1n1"), 100L * 1024 * 1024 * 1024);
 *     // a whole device (disk, mpath or loop), writable, at least 100 GiB,
 *     // nothing on it or stacked on it, nothing mounted
 * }
 * }</pre>
 */
public final class BlockDevices {
    /**
     * The smallest device PFS formats: it allocates whole 10 GiB chunks and its {@code mkfs} refuses a
     * smaller device ({@code pbd disk size must be greater than 10GB!}); what lies beyond the last
     * whole chunk is never used.
     */
    public static final long PFS_MINIMUM_BYTES = 10L << 30;

    /**
     * The {@code lsblk} TYPEs that carry shared block storage: {@code disk} (a local or SAN disk; nbd
     * and rbd devices are reported as {@code disk} too), {@code mpath} (a multipath SAN device) and
     * {@code loop} (a file standing in for a disk, for tests and single-host setups).
     */
    public static final Set<String> SHARED_STORAGE_TYPES = Set.of("disk", "mpath", "loop");

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
        CommandResult r = executor.execute(Command.of("lsblk", "-b", "-P", "-o", LsblkParser.COLUMNS)
                .withTimeout(TIMEOUT));
        if (!r.succeeded()) {
            throw new StorageException(StorageException.Reason.COMMAND_FAILED, executor.host(), executor.host()
                    + " - cannot list block devices: lsblk exited " + r.exitCode() + " (" + r.stderrTail(3).strip() + ")");
        }
        List<BlockDevice> devices;
        try {
            devices = LsblkParser.parsePairs(r.stdout());
        } catch (IllegalArgumentException e) {
            throw new StorageException(StorageException.Reason.OTHER, executor.host(), executor.host()
                    + " - cannot read the output of lsblk -P: " + e.getMessage(), e);
        }
        LOG.info("{} - listed {} block devices in {} ms", executor.host(), devices.size(),
                Duration.ofNanos(System.nanoTime() - start).toMillis());
        return devices;
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
     * The device, checked for use as PFS shared storage. The rules, in the order they are checked
     * (the first one broken is the exception's message, reason {@link StorageException.Reason#DEVICE_UNSUITABLE}):
     * <ol>
     *   <li>{@code lsblk} lists it;</li>
     *   <li>it is not a partition ({@code TYPE part}): PFS takes a whole device. A partition is refused
     *       even when nothing uses it, because the rest of its disk belongs to something that does not
     *       know the device is shared, and a SAN volume is shared whole;</li>
     *   <li>its TYPE is one of {@link #SHARED_STORAGE_TYPES} (not {@code lvm}, {@code crypt},
     *       {@code raid*}, {@code rom} ...);</li>
     *   <li>neither it nor anything on it is mounted (a swap area counts: lsblk shows {@code [SWAP]});</li>
     *   <li>nothing is stacked on it (no partition, volume or multipath map: those are the users);</li>
     *   <li>it is writable ({@code RO 0});</li>
     *   <li>it has at least {@code minimumBytes} and at least {@link #PFS_MINIMUM_BYTES}.</li>
     * </ol>
     *
     * @throws StorageException naming the device, the host and the first rule it breaks
     */
    public BlockDevice requireUsable(DeviceName name, long minimumBytes) {
        Objects.requireNonNull(name, "name");
        if (minimumBytes < 0) {
            throw new IllegalArgumentException("minimumBytes must not be negative: " + minimumBytes);
        }
        List<BlockDevice> all = list();
        BlockDevice d = find(all, name).orElseThrow(() -> unsuitable(name,
                "is not listed by lsblk (devices: " + names(all) + ")"));
        if (d.isPartition()) {
            throw unsuitable(name, "is a partition (TYPE part): PFS takes a whole device (TYPE "
                    + String.join(", ", new TreeSet<>(SHARED_STORAGE_TYPES)) + ")");
        }
        if (!SHARED_STORAGE_TYPES.contains(d.type())) {
            throw unsuitable(name, "is of TYPE " + d.type() + ", which cannot carry shared storage (TYPE "
                    + String.join(", ", new TreeSet<>(SHARED_STORAGE_TYPES)) + " can)");
        }
        List<String> mounted = d.mountedPaths();
        if (!mounted.isEmpty()) {
            throw unsuitable(name, "is mounted by the OS (" + String.join(", ", mounted)
                    + "); PFS needs a device nothing else uses");
        }
        if (!d.children().isEmpty()) {
            List<String> stacked = new ArrayList<>();
            for (BlockDevice c : d.children()) {
                c.walk(x -> stacked.add(x.name() + " TYPE " + x.type()));
            }
            throw unsuitable(name, "has devices on it (" + String.join(", ", stacked)
                    + "); PFS needs a device nothing else uses");
        }
        if (d.readOnly()) {
            throw unsuitable(name, "is read-only (RO=1)");
        }
        long needed = Math.max(minimumBytes, PFS_MINIMUM_BYTES);
        if (d.sizeBytes() < needed) {
            throw unsuitable(name, "has " + d.sizeBytes() + " bytes, at least " + needed + " are needed"
                    + (needed == PFS_MINIMUM_BYTES ? " (PFS formats whole 10 GiB chunks)" : ""));
        }
        LOG.info("{} - block device {} (TYPE {}) is usable: {} bytes, unmounted", executor.host(), name, d.type(),
                d.sizeBytes());
        return d;
    }

    private StorageException unsuitable(DeviceName name, String why) {
        return new StorageException(StorageException.Reason.DEVICE_UNSUITABLE, executor.host(), problem(name, why));
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
