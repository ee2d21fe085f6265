package dev.polarscale.replication.micrometer;

import dev.polarscale.replication.ClusterScaler;
import dev.polarscale.replication.ScaleEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Micrometer meters of a cluster and of the operations a {@link ClusterScaler} runs.
 *
 * <pre>{@code
 * try (ClusterScaler scaler = ClusterScaler.forCluster(spec);
 *      PolarScaleMetrics metrics = new PolarScaleMetrics(scaler, Tags.of("cluster", "orders"))) {
 *     metrics.bindTo(meterRegistry);
 *     scaler.scaleTo(ScaleTarget.count(3, policy));
 * }
 * }</pre>
 *
 * <table>
 *   <caption>Meters (Prometheus names in brackets)</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>what</th></tr>
 *   <tr><td>{@code polarscale.operation} [{@code polarscale_operation_seconds}]</td><td>timer</td>
 *       <td>operation, outcome</td><td>each operation this scaler ran, start to end (outcome {@code done},
 *       {@code failed}; {@code undone} for an interrupted one undone by recovery)</td></tr>
 *   <tr><td>{@code polarscale.step} [{@code polarscale_step_seconds}]</td><td>timer</td>
 *       <td>operation, step, outcome</td><td>each step ({@code done}, {@code failed}, {@code undone})</td></tr>
 *   <tr><td>{@code polarscale.failures} [{@code polarscale_failures_total}]</td><td>counter</td>
 *       <td>operation, reason</td><td>failed operations by {@code PolarException.Reason}</td></tr>
 *   <tr><td>{@code polarscale.nodes} [{@code polarscale_nodes}]</td><td>gauge</td><td></td>
 *       <td>registered followers</td></tr>
 *   <tr><td>{@code polarscale.replication.lag.size} [{@code polarscale_replication_lag_size_bytes}]</td>
 *       <td>gauge, bytes</td><td>node</td><td>WAL the follower has not replayed (NaN while it does not stream)</td></tr>
 *   <tr><td>{@code polarscale.replication.lag.time} [{@code polarscale_replication_lag_time_seconds}]</td>
 *       <td>time gauge</td><td>node</td><td>{@code pg_stat_replication.replay_lag} (0 when caught up and idle)</td></tr>
 *   <tr><td>{@code polarscale.slot.wal.retained} [{@code polarscale_slot_wal_retained_bytes}]</td>
 *       <td>gauge, bytes</td><td>slot</td><td>WAL the primary keeps for the physical slot</td></tr>
 * </table>
 *
 * <p>Timers and the counter come from the scaler's events ({@link ClusterScaler#addEventListener}),
 * so they count the operations of this scaler (this process). The gauges read the primary: one
 * new connection and two queries when a gauge is read and the figures are older than
 * {@code maxAge} (default 5 s), and right after each operation of this scaler; per-node and
 * per-slot gauges come and go with the nodes and slots. {@link #close()} stops listening and
 * removes this binder's meters.
 */
public final class PolarScaleMetrics implements MeterBinder, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PolarScaleMetrics.class);

    private final ClusterScaler scaler;
    private final Tags tags;
    private final long maxAgeNanos;
    private final Consumer<ScaleEvent> listener = this::onEvent;
    private final Set<Meter> meters = ConcurrentHashMap.newKeySet();
    private final Map<String, List<Meter>> nodeGauges = new HashMap<>();
    private final Map<String, Meter> slotGauges = new HashMap<>();
    private volatile MeterRegistry registry;
    private volatile Snapshot snapshot = new Snapshot(Long.MIN_VALUE, false, Map.of(), Map.of());

    /** What the primary said at one time ({@code ok} false: it did not answer, every value is NaN). */
    private record Snapshot(long readAt, boolean ok, Map<String, double[]> lag, Map<String, Double> retained) {
    }

    /** Meters of {@code scaler}, without extra tags, figures at most 5 s old. */
    public PolarScaleMetrics(ClusterScaler scaler) {
        this(scaler, Tags.empty(), Duration.ofSeconds(5));
    }

    /** Meters of {@code scaler} with {@code tags} on each (e.g. {@code cluster=orders}). */
    public PolarScaleMetrics(ClusterScaler scaler, Iterable<Tag> tags) {
        this(scaler, tags, Duration.ofSeconds(5));
    }

    /**
     * @param maxAge how old the replication figures may be when a gauge is read (0: read the primary
     *               at every gauge read)
     */
    public PolarScaleMetrics(ClusterScaler scaler, Iterable<Tag> tags, Duration maxAge) {
        this.scaler = Objects.requireNonNull(scaler, "scaler");
        this.tags = Tags.of(Objects.requireNonNull(tags, "tags"));
        Objects.requireNonNull(maxAge, "maxAge");
        if (maxAge.isNegative()) {
            throw new IllegalArgumentException("maxAge must not be negative: " + maxAge);
        }
        this.maxAgeNanos = maxAge.toNanos();
    }

    /**
     * Registers the meters and starts listening to the scaler's events; reads the primary once.
     *
     * @throws IllegalStateException already bound to a registry
     */
    @Override
    public synchronized void bindTo(MeterRegistry meterRegistry) {
        Objects.requireNonNull(meterRegistry, "meterRegistry");
        if (registry != null) {
            throw new IllegalStateException("PolarScaleMetrics is bound to a registry already; create one per "
                    + "registry (or use a CompositeMeterRegistry)");
        }
        registry = meterRegistry;
        meters.add(Gauge.builder("polarscale.nodes", this, m -> m.fresh().lag().size()).tags(tags)
                .description("Followers registered in the cluster").strongReference(true).register(meterRegistry));
        scaler.addEventListener(listener);
        refresh();
    }

    /** Reads the primary now and adds or removes the per-node and per-slot gauges to match. */
    public synchronized void refresh() {
        MeterRegistry r = registry;
        if (r == null) {
            throw new IllegalStateException("not bound to a registry: call bindTo first");
        }
        Snapshot s = read();
        snapshot = s;
        if (!s.ok()) {
            return; // the primary did not answer: keep the meters, their values are NaN until the next read
        }
        for (String node : s.lag().keySet()) {
            nodeGauges.computeIfAbsent(node, n -> List.of(
                    track(Gauge.builder("polarscale.replication.lag.size", this, m -> m.lag(n)[0]).tags(tags)
                            .tag("node", n).baseUnit(BaseUnits.BYTES).strongReference(true)
                            .description("WAL bytes the follower has not replayed").register(r)),
                    track(TimeGauge.builder("polarscale.replication.lag.time", this, TimeUnit.SECONDS,
                                    m -> m.lag(n)[1]).tags(tags).tag("node", n).strongReference(true)
                            .description("How long ago the follower replayed the WAL it has now").register(r))));
        }
        nodeGauges.keySet().removeIf(n -> {
            boolean gone = !s.lag().containsKey(n);
            if (gone) {
                nodeGauges.get(n).forEach(this::remove);
            }
            return gone;
        });
        for (String slot : s.retained().keySet()) {
            slotGauges.computeIfAbsent(slot, sl -> track(Gauge.builder("polarscale.slot.wal.retained", this,
                            m -> m.fresh().retained().getOrDefault(sl, Double.NaN)).tags(tags).tag("slot", sl)
                    .baseUnit(BaseUnits.BYTES).strongReference(true)
                    .description("WAL bytes the primary keeps for the replication slot").register(r)));
        }
        slotGauges.keySet().removeIf(sl -> {
            boolean gone = !s.retained().containsKey(sl);
            if (gone) {
                remove(slotGauges.get(sl));
            }
            return gone;
        });
    }

    /** Stops listening to the scaler and removes every meter this binder registered. */
    @Override
    public synchronized void close() {
        scaler.removeEventListener(listener);
        MeterRegistry r = registry;
        if (r != null) {
            meters.forEach(r::remove);
        }
        meters.clear();
        nodeGauges.clear();
        slotGauges.clear();
    }

    private double[] lag(String node) {
        return fresh().lag().getOrDefault(node, new double[] {Double.NaN, Double.NaN});
    }

    /** The figures, read again when older than maxAge. */
    private Snapshot fresh() {
        Snapshot s = snapshot;
        if (s.readAt() != Long.MIN_VALUE && System.nanoTime() - s.readAt() <= maxAgeNanos) {
            return s;
        }
        synchronized (this) {
            if (snapshot == s) {
                refresh();  // only gauges call this, and they exist only once bound to a registry
            }
            return snapshot;
        }
    }

    private Snapshot read() {
        Map<String, double[]> lag = new HashMap<>();
        Map<String, Double> retained = new HashMap<>();
        try (Connection c = scaler.primaryNode().connect(Duration.ofSeconds(2)); Statement st = c.createStatement()) {
            st.setQueryTimeout(5);
            try (ResultSet rs = st.executeQuery("SELECT n.name, r.state, "
                    + "pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::float8, "
                    + "extract(epoch FROM r.replay_lag)::float8 FROM polarscale.nodes n "
                    + "LEFT JOIN LATERAL (SELECT * FROM pg_stat_replication x WHERE x.application_name = n.name "
                    + "ORDER BY x.backend_start DESC LIMIT 1) r ON true WHERE n.role <> 'PRIMARY'")) {
                while (rs.next()) {
                    boolean streaming = "streaming".equals(rs.getString(2));
                    double bytes = rs.getDouble(3);
                    boolean noBytes = rs.wasNull();
                    double secs = rs.getDouble(4);
                    boolean noSecs = rs.wasNull();
                    double b = !streaming || noBytes ? Double.NaN : bytes;
                    double t = !streaming ? Double.NaN : !noSecs ? secs : b == 0 ? 0 : Double.NaN;
                    lag.put(rs.getString(1), new double[] {b, t});
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT slot_name, COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), "
                    + "restart_lsn), 0)::float8 FROM pg_replication_slots WHERE slot_type = 'physical'")) {
                while (rs.next()) {
                    retained.put(rs.getString(1), rs.getDouble(2));
                }
            }
            return new Snapshot(System.nanoTime(), true, lag, retained);
        } catch (SQLException | RuntimeException e) {
            LOG.debug("{} - metrics: cannot read the replication state: {}", scaler.spec().primaryName(), e.toString());
            return new Snapshot(System.nanoTime(), false, Map.of(), Map.of());
        }
    }

    private void onEvent(ScaleEvent e) {
        MeterRegistry r = registry;
        if (r == null || e.outcome() == ScaleEvent.Outcome.STARTED) {
            return;
        }
        String outcome = e.outcome().name().toLowerCase(Locale.ROOT);
        Duration took = e.duration().orElse(Duration.ZERO);
        if (e.step().isPresent()) {
            track(Timer.builder("polarscale.step").tags(tags).tag("operation", e.operation())
                    .tag("step", e.step().get()).tag("outcome", outcome)
                    .description("Steps of scaling operations").register(r)).record(took);
            return;
        }
        track(Timer.builder("polarscale.operation").tags(tags).tag("operation", e.operation()).tag("outcome", outcome)
                .description("Scaling operations, start to end").register(r)).record(took);
        if (e.outcome() == ScaleEvent.Outcome.FAILED) {
            track(Counter.builder("polarscale.failures").tags(tags).tag("operation", e.operation())
                    .tag("reason", e.reason().orElse("OTHER")).description("Failed scaling operations by reason")
                    .register(r)).increment();
        }
        if (!e.operation().equals("scaleTo")) {
            try {
                refresh(); // the membership may have changed: gauges follow at once
            } catch (RuntimeException ex) {
                LOG.debug("metrics: refresh after {} failed: {}", e.operation(), ex.toString());
            }
        }
    }

    private <M extends Meter> M track(M meter) {
        meters.add(meter);
        return meter;
    }

    private void remove(Meter m) {
        MeterRegistry r = registry;
        if (r != null) {
            r.remove(m);
        }
        meters.remove(m);
    }
}
