package dev.polarscale.replication;

import dev.polarscale.core.NodeRole;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One node as {@link ClusterScaler#status()} found it.
 *
 * @param name           node name
 * @param role           primary, shared-storage replica or streaming standby
 * @param host           host address
 * @param port           port
 * @param reachable      whether it answered {@code SELECT pg_is_in_recovery()}
 * @param inRecovery     its answer (a follower must say {@code true}); empty when unreachable
 * @param slotActive     whether its slot on the primary is in use; empty for the primary
 * @param replication    {@code pg_stat_replication.state} on the primary, e.g. {@code streaming}
 * @param replayLagBytes WAL bytes the node has not replayed yet
 * @param replayLag      {@code pg_stat_replication.replay_lag}
 * @param error          why it is unreachable, if it is
 */
public record NodeStatus(String name, NodeRole role, String host, int port, boolean reachable,
                         Optional<Boolean> inRecovery, Optional<Boolean> slotActive, Optional<String> replication,
                         OptionalLong replayLagBytes, Optional<Duration> replayLag, Optional<String> error) {
    public NodeStatus {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(inRecovery, "inRecovery");
        Objects.requireNonNull(slotActive, "slotActive");
        Objects.requireNonNull(replication, "replication");
        Objects.requireNonNull(replayLagBytes, "replayLagBytes");
        Objects.requireNonNull(replayLag, "replayLag");
        Objects.requireNonNull(error, "error");
    }

    /** A follower that answers, is in recovery and streams through an active slot. */
    public boolean healthy() {
        if (role == NodeRole.PRIMARY) {
            return reachable && inRecovery.equals(Optional.of(false));
        }
        return reachable && inRecovery.equals(Optional.of(true)) && slotActive.equals(Optional.of(true))
                && replication.equals(Optional.of("streaming"));
    }
}
