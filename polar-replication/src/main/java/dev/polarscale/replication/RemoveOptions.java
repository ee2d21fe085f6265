package dev.polarscale.replication;

import java.time.Duration;
import java.util.Objects;

/**
 * How {@link ClusterScaler#removeNode(String, RemoveOptions)} removes a node.
 *
 * <pre>{@code
 * scaler.removeNode("standby1", RemoveOptions.defaults().withDeleteData(true));
 * }</pre>
 *
 * @param deleteData       also delete the node's data directory
 * @param slotInactiveWait how long to wait for the stopped node's slot to turn inactive
 */
public record RemoveOptions(boolean deleteData, Duration slotInactiveWait) {
    public RemoveOptions {
        Objects.requireNonNull(slotInactiveWait, "slotInactiveWait");
        if (slotInactiveWait.isNegative() || slotInactiveWait.isZero()) {
            throw new IllegalArgumentException("slotInactiveWait must be positive: " + slotInactiveWait);
        }
    }

    /** Keep the data directory, wait up to 30 s for the slot. */
    public static RemoveOptions defaults() {
        return new RemoveOptions(false, Duration.ofSeconds(30));
    }

    public RemoveOptions withDeleteData(boolean delete) {
        return new RemoveOptions(delete, slotInactiveWait);
    }

    public RemoveOptions withSlotInactiveWait(Duration wait) {
        return new RemoveOptions(deleteData, wait);
    }
}
