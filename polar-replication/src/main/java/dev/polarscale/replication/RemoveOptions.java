package dev.polarscale.replication;

import java.time.Duration;
import java.util.Objects;

/**
 * How {@link ClusterScaler#removeNode(String, RemoveOptions)} removes a node.
 *
 * <pre>{@code
 * scaler.removeNode("standby1", RemoveOptions.defaults().withDeleteData(true));
 * // its host is gone for good: drop its slot and forget it anyway
 * scaler.removeNode("standby2", RemoveOptions.defaults().withForce(true));
 * }</pre>
 *
 * @param deleteData       also delete the node's data directory
 * @param slotInactiveWait how long to wait for the stopped node's slot to turn inactive
 * @param force            when the node's host or server cannot be reached (one bounded stop
 *                         attempt failed with {@code HOST_UNREACHABLE}, {@code CONNECTION_LOST}
 *                         or {@code TIMEOUT}), end its walsender, drop its slot and unregister it
 *                         anyway; its data directory, on the unreachable host, is left alone.
 *                         Without it such a removal fails and changes nothing
 */
public record RemoveOptions(boolean deleteData, Duration slotInactiveWait, boolean force) {
    public RemoveOptions {
        Objects.requireNonNull(slotInactiveWait, "slotInactiveWait");
        if (slotInactiveWait.isNegative() || slotInactiveWait.isZero()) {
            throw new IllegalArgumentException("slotInactiveWait must be positive: " + slotInactiveWait);
        }
    }

    /** Keep the data directory, wait up to 30 s for the slot, no force. */
    public static RemoveOptions defaults() {
        return new RemoveOptions(false, Duration.ofSeconds(30), false);
    }

    public RemoveOptions withDeleteData(boolean delete) {
        return new RemoveOptions(delete, slotInactiveWait, force);
    }

    public RemoveOptions withSlotInactiveWait(Duration wait) {
        return new RemoveOptions(deleteData, wait, force);
    }

    public RemoveOptions withForce(boolean forced) {
        return new RemoveOptions(deleteData, slotInactiveWait, forced);
    }
}
