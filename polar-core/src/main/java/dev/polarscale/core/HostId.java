package dev.polarscale.core;

/**
 * A PolarDB {@code polar_hostid}, unique per compute node of a cluster; the server accepts
 * 1..512 and does not detect duplicates in local-file-system mode, so PolarScale does.
 */
public record HostId(int value) implements Comparable<HostId> {
    public static final int MIN = 1;
    public static final int MAX = 512;

    public HostId {
        if (value < MIN || value > MAX) {
            throw new IllegalArgumentException("polar_hostid must be in " + MIN + ".." + MAX + ": " + value);
        }
    }

    public static HostId of(int value) {
        return new HostId(value);
    }

    @Override
    public int compareTo(HostId o) {
        return Integer.compare(value, o.value);
    }

    @Override
    public String toString() {
        return Integer.toString(value);
    }
}
