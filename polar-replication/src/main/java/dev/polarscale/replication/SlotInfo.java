package dev.polarscale.replication;

import dev.polarscale.core.Lsn;
import dev.polarscale.core.SlotName;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * One row of {@code pg_replication_slots}, as the primary sees it.
 *
 * @param name          the slot name
 * @param physical      {@code true} for a physical slot, {@code false} for a logical one
 * @param active        whether a walsender uses it now
 * @param activePid     the walsender's PID when active
 * @param restartLsn    the oldest WAL position the slot keeps ({@link Lsn#INVALID} if none yet)
 * @param walStatus     {@code reserved}, {@code extended}, {@code unreserved} or {@code lost}
 *                      (empty when the slot reserves no WAL)
 * @param retainedBytes bytes of WAL the slot keeps from being recycled (0 when none)
 */
public record SlotInfo(SlotName name, boolean physical, boolean active, OptionalLong activePid, Lsn restartLsn,
                       String walStatus, long retainedBytes) {
    public SlotInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(activePid, "activePid");
        Objects.requireNonNull(restartLsn, "restartLsn");
        Objects.requireNonNull(walStatus, "walStatus");
        if (retainedBytes < 0) {
            throw new IllegalArgumentException("retainedBytes must not be negative: " + retainedBytes);
        }
    }
}
