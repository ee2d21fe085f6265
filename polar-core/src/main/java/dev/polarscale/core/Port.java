package dev.polarscale.core;

/**
 * A TCP port a node listens on, 1..65535.
 *
 * <pre>{@code Port p = Port.of(5433);}</pre>
 */
public record Port(int value) implements Comparable<Port> {
    public Port {
        if (value < 1 || value > 65535) {
            throw new IllegalArgumentException("port must be in 1..65535: " + value);
        }
    }

    public static Port of(int value) {
        return new Port(value);
    }

    @Override
    public int compareTo(Port o) {
        return Integer.compare(value, o.value);
    }

    @Override
    public String toString() {
        return Integer.toString(value);
    }
}
