package dev.polarscale.replication;

import java.util.List;
import java.util.Objects;

/**
 * What {@link ClusterScaler#adopt(AdoptOptions)} found and did.
 *
 * @param operation      the steps with their durations
 * @param registered     the nodes now in the cluster's membership (the primary first)
 * @param unknownSlots   replication slots on the primary that belong to no registered node
 * @param unknownStreams {@code pg_stat_replication} entries ({@code application_name@client_addr state})
 *                       of no registered node
 */
public record AdoptReport(OperationReport operation, List<String> registered, List<SlotInfo> unknownSlots,
                          List<String> unknownStreams) {
    public AdoptReport {
        Objects.requireNonNull(operation, "operation");
        registered = List.copyOf(registered);
        unknownSlots = List.copyOf(unknownSlots);
        unknownStreams = List.copyOf(unknownStreams);
    }

    /** Whether every slot and every walsender on the primary belongs to a registered node. */
    public boolean complete() {
        return unknownSlots.isEmpty() && unknownStreams.isEmpty();
    }
}
