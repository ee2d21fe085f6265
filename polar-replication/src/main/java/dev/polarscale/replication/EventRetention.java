package dev.polarscale.replication;

import java.time.Duration;
import java.util.Objects;

/**
 * How much of the event history ({@code polarscale.events}) the primary keeps: at most
 * {@code maxEvents} rows and none older than {@code maxAge}. Older rows are deleted when an
 * operation ends, in one statement. Set with {@link ClusterSpec.Builder#eventRetention}.
 *
 * @param maxEvents the newest rows kept, 100..10,000,000 (an add writes about 15)
 * @param maxAge    rows older than this are deleted, at least one hour
 */
public record EventRetention(int maxEvents, Duration maxAge) {
    /** 10,000 events, 30 days. */
    public static final EventRetention DEFAULT = new EventRetention(10_000, Duration.ofDays(30));

    public EventRetention {
        if (maxEvents < 100 || maxEvents > 10_000_000) {
            throw new IllegalArgumentException("maxEvents must be 100..10000000: " + maxEvents);
        }
        Objects.requireNonNull(maxAge, "maxAge");
        if (maxAge.compareTo(Duration.ofHours(1)) < 0) {
            throw new IllegalArgumentException("maxAge must be at least one hour: " + maxAge);
        }
    }
}
