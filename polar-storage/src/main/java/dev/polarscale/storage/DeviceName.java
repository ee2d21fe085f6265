package dev.polarscale.storage;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The kernel name of a block device, as {@code lsblk} prints it and as PFS uses it for its
 * disk ({@code /nvme1n1/...}): letters, digits, {@code _ . + : -}, at most 64 characters,
 * no {@code /}. {@link #of(String)} also accepts the {@code /dev/} form and strips it; any
 * other path is rejected rather than guessed at.
 *
 * <pre>{@code
 * DeviceName dev = DeviceName.of("/dev/nvme1n1");
 * dev.name();        // "nvme1n1"
 * dev.devicePath();  // "/dev/nvme1n1"
 * }</pre>
 *
 * @param name the bare kernel name, e.g. {@code nvme1n1}
 */
public record DeviceName(String name) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.+:-]{0,63}");

    public DeviceName {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid block device name: '" + name
                    + "' (expected a kernel name such as nvme1n1: letters, digits, _ . + : -, at most 64)");
        }
    }

    /** A device name from {@code nvme1n1} or {@code /dev/nvme1n1}. */
    public static DeviceName of(String nameOrPath) {
        Objects.requireNonNull(nameOrPath, "nameOrPath");
        String n = nameOrPath.startsWith("/dev/") ? nameOrPath.substring("/dev/".length()) : nameOrPath;
        return new DeviceName(n);
    }

    /** {@code /dev/<name>}. */
    public String devicePath() {
        return "/dev/" + name;
    }

    @Override
    public String toString() {
        return name;
    }
}
