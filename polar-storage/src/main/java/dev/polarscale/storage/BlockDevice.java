package dev.polarscale.storage;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One row of {@code lsblk} with the rows below it: a disk with its partitions, a partition
 * with the LVM volumes on it, and so on. Immutable; sizes in bytes.
 *
 * <pre>{@code
 * BlockDevice disk = BlockDevices.on(executor).find(DeviceName.of("nvme1n1")).orElseThrow();
 * disk.type();           // "disk"
 * disk.mountedPaths();   // [] : nothing on it is mounted
 * disk.children();       // [] : no partition or volume on it
 * // BlockDevices.requireUsable applies every rule PFS needs
 * }</pre>
 *
 * @param name       kernel name ({@code nvme1n1}, {@code nvme0n1p1}, {@code dm-0} ...)
 * @param majMin     {@code major:minor} device numbers
 * @param removable  the {@code RM} flag
 * @param sizeBytes  size in bytes ({@code lsblk -b})
 * @param readOnly   the {@code RO} flag
 * @param type       {@code disk} (also nbd and rbd devices), {@code mpath}, {@code loop}, {@code part},
 *                   {@code lvm}, {@code crypt}, {@code raid1}, {@code rom} ...
 * @param mountpoint where the OS mounted this device itself, if anywhere
 * @param children   devices stacked on this one, in {@code lsblk} order
 */
public record BlockDevice(String name, String majMin, boolean removable, long sizeBytes, boolean readOnly,
                          String type, Optional<String> mountpoint, List<BlockDevice> children) {

    public BlockDevice {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(majMin, "majMin of " + name);
        Objects.requireNonNull(type, "type of " + name);
        Objects.requireNonNull(mountpoint, "mountpoint of " + name);
        Objects.requireNonNull(children, "children of " + name);
        if (name.isBlank() || name.contains("/")) {
            throw new IllegalArgumentException("invalid block device name: '" + name + "'");
        }
        if (!majMin.matches("\\d+:\\d+")) {
            throw new IllegalArgumentException("invalid MAJ:MIN of " + name + ": '" + majMin + "'");
        }
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("negative size of " + name + ": " + sizeBytes);
        }
        if (type.isBlank()) {
            throw new IllegalArgumentException("blank TYPE of " + name);
        }
        if (mountpoint.isPresent() && mountpoint.get().isEmpty()) {
            mountpoint = Optional.empty();
        }
        children = List.copyOf(children);
    }

    /** Whether {@code TYPE} is {@code disk} (a whole device, not a partition or volume). */
    public boolean isDisk() {
        return "disk".equals(type);
    }

    /** Whether {@code TYPE} is {@code part}: a partition of another device. */
    public boolean isPartition() {
        return "part".equals(type);
    }

    /** {@code /dev/<name>}. */
    public String devicePath() {
        return "/dev/" + name;
    }

    /**
     * Every mount point of this device and of all devices below it, as {@code "name on path"}
     * ({@code nvme0n1p1 on /}); empty when nothing on this device is mounted by the OS.
     */
    public List<String> mountedPaths() {
        List<String> out = new ArrayList<>();
        walk(d -> d.mountpoint().ifPresent(m -> out.add(d.name() + " on " + m)));
        return List.copyOf(out);
    }

    /** Calls {@code visitor} for this device and then, depth first, for every device below it. */
    public void walk(Consumer<BlockDevice> visitor) {
        visitor.accept(this);
        for (BlockDevice c : children) {
            c.walk(visitor);
        }
    }

    /** This device or the first device below it named {@code deviceName}. */
    public Optional<BlockDevice> find(DeviceName deviceName) {
        if (name.equals(deviceName.name())) {
            return Optional.of(this);
        }
        for (BlockDevice c : children) {
            Optional<BlockDevice> f = c.find(deviceName);
            if (f.isPresent()) {
                return f;
            }
        }
        return Optional.empty();
    }
}
