package dev.polarscale.storage;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A path on a PFS file system: {@code /<disk>/<dir>/...}, where the disk is the block device
 * name. Components are {@code [A-Za-z0-9_.+@-]}, never {@code .} or {@code ..}; spaces, quotes
 * and newlines are rejected because the path also lands in {@code postgresql.conf} and in shell
 * scripts.
 *
 * <pre>{@code
 * PfsPath shared = PfsPath.of("/nvme1n1/shared_data");
 * shared.disk();          // DeviceName nvme1n1
 * shared.toString();      // "/nvme1n1/shared_data"
 * shared.asDirectory();   // "/nvme1n1/shared_data/"  (polar_datadir, polar-initdb.sh)
 * PfsPath.root(DeviceName.of("nvme1n1")).resolve("shared_data").equals(shared);  // true
 * }</pre>
 *
 * @param disk       the PFS disk (block device)
 * @param components the directory names below the disk root; empty for the root
 */
public record PfsPath(DeviceName disk, List<String> components) {
    private static final Pattern COMPONENT = Pattern.compile("[A-Za-z0-9_.+@-]{1,255}");

    public PfsPath {
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(components, "components");
        components = List.copyOf(components);
        for (String c : components) {
            if (!COMPONENT.matcher(c).matches() || c.equals(".") || c.equals("..")) {
                throw new IllegalArgumentException("invalid PFS path component '" + c
                        + "' (allowed: letters, digits, _ . + @ -; not . or ..)");
            }
        }
    }

    /** The root of the disk's file system, {@code /<disk>/}. */
    public static PfsPath root(DeviceName disk) {
        return new PfsPath(disk, List.of());
    }

    /** Parses {@code /<disk>/<dir>...}; a trailing {@code /} is allowed, an empty component is not. */
    public static PfsPath of(String path) {
        Objects.requireNonNull(path, "path");
        if (!path.startsWith("/") || path.length() < 2) {
            throw new IllegalArgumentException("a PFS path starts with /<disk>/: '" + path + "'");
        }
        String body = path.endsWith("/") ? path.substring(1, path.length() - 1) : path.substring(1);
        String[] parts = body.split("/", -1);
        List<String> comps = new ArrayList<>();
        for (int i = 1; i < parts.length; i++) {
            if (parts[i].isEmpty()) {
                throw new IllegalArgumentException("empty component in PFS path '" + path + "'");
            }
            comps.add(parts[i]);
        }
        return new PfsPath(new DeviceName(parts[0]), comps);
    }

    /** This path with one more directory name. */
    public PfsPath resolve(String name) {
        List<String> c = new ArrayList<>(components);
        c.add(name);
        return new PfsPath(disk, c);
    }

    /** The path with a trailing {@code /}, as {@code polar_datadir} and {@code polar-initdb.sh} want it. */
    public String asDirectory() {
        String s = toString();
        return s.endsWith("/") ? s : s + "/";
    }

    /** Whether this is the disk root. */
    public boolean isRoot() {
        return components.isEmpty();
    }

    @Override
    public String toString() {
        return components.isEmpty() ? "/" + disk.name() + "/" : "/" + disk.name() + "/" + String.join("/", components);
    }
}
