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

    @Override
    public String toString() {
        return value;
    }
}
