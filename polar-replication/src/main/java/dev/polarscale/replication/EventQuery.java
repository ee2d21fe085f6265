package dev.polarscale.replication;

import dev.polarscale.core.Names;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Which events {@link ClusterScaler#events(EventQuery)} returns: the newest {@code limit} events,
 * optionally only those at or after {@code since}, of one node, or of one kind of operation.
 *
 * <pre>{@code
 * scaler.events(EventQuery.latest(50));                                           // the last 50
 * scaler.events(EventQuery.latest(1000).since(Instant.now().minus(Duration.ofHours(1))));
 * scaler.events(EventQuery.latest(100).node("standby-2").operation("addStandby"));
 * }</pre>
 *
 * @param limit     at most this many events, 1..{@value #MAX_LIMIT}
 * @param since     only events at or after this time
 * @param node      only events of this node
 * @param operation only events of this operation ({@code addStandby}, {@code scaleTo}, ...)
 */
public record EventQuery(int limit, Optional<Instant> since, Optional<String> node, Optional<String> operation) {
    /** The most events one query returns. */
    public static final int MAX_LIMIT = 10_000;

    public EventQuery {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 1.." + MAX_LIMIT + ": " + limit);
        }
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(operation, "operation");
        node.ifPresent(n -> Names.requireNodeName(n, "node"));
        operation.ifPresent(o -> {
            if (!o.matches("[a-zA-Z]{1,40}")) {
                throw new IllegalArgumentException("invalid operation '" + o + "': expected a name such as "
                        + "addStandby");
            }
        });
    }

    /** The newest {@code limit} events of every node and operation. */
    public static EventQuery latest(int limit) {
        return new EventQuery(limit, Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** This query, for events at or after {@code time} only. */
    public EventQuery since(Instant time) {
        return new EventQuery(limit, Optional.of(Objects.requireNonNull(time, "since")), node, operation);
    }

    /** This query, for events of the node {@code name} only. */
    public EventQuery node(String name) {
        return new EventQuery(limit, since, Optional.of(Objects.requireNonNull(name, "node")), operation);
    }

    /** This query, for events of one kind of operation only ({@code addStandby}, {@code scaleTo}, ...). */
    public EventQuery operation(String kind) {
        return new EventQuery(limit, since, node, Optional.of(Objects.requireNonNull(kind, "operation")));
    }
}
