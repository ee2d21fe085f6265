package dev.polarscale.core;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A physical replication slot name: what PostgreSQL accepts, {@code [a-z0-9_]{1,63}}. Because
 * the name is validated here, it can never carry a quote or a space into SQL or a config file
 * (and SQL still binds it as a parameter).
 */
public record SlotName(String value) {
    private static final Pattern VALID = Pattern.compile("[a-z0-9_]{1,63}");

    public SlotName {
        Objects.requireNonNull(value, "slot name");
        if (!VALID.matcher(value).matches()) {
            throw new IllegalArgumentException(
                    "invalid replication slot name '" + value + "': must match [a-z0-9_]{1,63}");
        }
    }

    public static SlotName of(String value) {
        return new SlotName(value);
    }

    /**
     * The slot of a node: its name with every {@code -} turned into {@code _} ({@code replica-2}
     * → {@code replica_2}), so that platform-style names map to a valid slot, always the same one.
     * Two node names that differ only there share a slot, so a cluster holds at most one of them.
     *
     * @throws IllegalArgumentException the node name is not valid ({@link Names#requireNodeName})
     */
    public static SlotName forNode(String nodeName) {
        return new SlotName(Names.requireNodeName(nodeName, "node name").replace('-', '_'));
    }

    @Override
    public String toString() {
        return value;
    }
}
