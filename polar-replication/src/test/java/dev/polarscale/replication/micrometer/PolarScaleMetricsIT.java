package dev.polarscale.replication.micrometer;

import dev.polarscale.core.Command;
import dev.polarscale.core.Executors;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.replication.ClusterScaler;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.NamingPolicy;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.ScaleTarget;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Micrometer binder in a {@link SimpleMeterRegistry} after real operations on real PostgreSQL
 * 15 servers: operation and step timers, the failure counter by reason, the replication lag and
 * retained WAL gauges of a streaming standby, gauges following the membership, and close().
 */
class PolarScaleMetricsIT {
    private static Path base;
    private static ClusterScaler scaler;

    @BeforeAll
    static void deploy() throws IOException {
        base = Files.createTempDirectory("polarscale-metrics-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        scaler = ClusterScaler.forCluster(ClusterSpec.builder()
                .primary("primary", "127.0.0.1", freePort(), base.resolve("primary"))
                .verifyTimeout(Duration.ofSeconds(30)).build());
        scaler.deployPrimary();
    }

    @AfterAll
    static void tearDown() {
        if (scaler != null) {
            PostgresNode primary = scaler.primaryNode();
            try {
                scaler.scaleTo(ScaleTarget.nodes(java.util.List.of()).withRemoveOptions(
                        dev.polarscale.replication.RemoveOptions.defaults().withDeleteData(true)));
            } finally {
                scaler.close();
                primary.stop();
            }
        }
        Executors.local().run(Command.of("rm", "-rf", "--", base.toString()));
        assertFalse(Files.exists(base));
    }

    private static int freePort() {
        return dev.polarscale.core.FreePorts.pick("127.0.0.1");
    }

    @Test
    void operationTimersFailureCountsAndLagGauges() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        PolarScaleMetrics metrics = new PolarScaleMetrics(scaler, Tags.of("cluster", "it"), Duration.ZERO);
        metrics.bindTo(registry);
        assertEquals(0.0, registry.get("polarscale.nodes").tag("cluster", "it").gauge().value());

        int first = freePort();
        NamingPolicy policy = NamingPolicy.builder().prefix("standby-").ports(first, Math.min(65535, first + 20))
                .dataDirectories(base).build();
        scaler.scaleTo(ScaleTarget.count(1, policy));
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t AS SELECT g FROM generate_series(1, 10000) g");
        }

        Timer add = registry.get("polarscale.operation").tags("operation", "addStandby", "outcome", "done",
                "cluster", "it").timer();
        assertEquals(1, add.count());
        assertTrue(add.totalTime(TimeUnit.MILLISECONDS) > 0);
        assertEquals(1, registry.get("polarscale.operation").tags("operation", "scaleTo", "outcome", "done").timer()
                .count());
        Timer backup = registry.get("polarscale.step").tags("operation", "addStandby", "step", "base backup",
                "outcome", "done").timer();
        assertEquals(1, backup.count());
        assertTrue(backup.totalTime(TimeUnit.NANOSECONDS) < add.totalTime(TimeUnit.NANOSECONDS));

        assertEquals(1.0, registry.get("polarscale.nodes").gauge().value());
        Gauge lag = registry.get("polarscale.replication.lag.size").tag("node", "standby-1").gauge();
        TimeGauge lagTime = registry.get("polarscale.replication.lag.time").tag("node", "standby-1").timeGauge();
        Gauge retained = registry.get("polarscale.slot.wal.retained").tag("slot", "standby_1").gauge();
        assertEquals("bytes", lag.getId().getBaseUnit());
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (lag.value() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(50); // the standby replays the table
        }
        System.out.printf("lag %.0f bytes, %.3f s; slot retains %.0f bytes%n", lag.value(),
                lagTime.value(TimeUnit.SECONDS), retained.value());
        assertEquals(0.0, lag.value(), "caught up");
        assertFalse(Double.isNaN(lagTime.value(TimeUnit.SECONDS)));
        assertTrue(lagTime.value(TimeUnit.SECONDS) >= 0);
        assertTrue(retained.value() >= 0 && !Double.isNaN(retained.value()));

        // a refused add: a failure counted by its reason
        try (ServerSocket taken = new ServerSocket(0)) {
            PolarException e = assertThrows(PolarException.class, () -> scaler.addStandby(NodeSpec.builder()
                    .name("clash").port(taken.getLocalPort()).dataDirectory(base.resolve("clash")).build()));
            assertEquals(PolarException.Reason.PORT_IN_USE, e.reason());
        }
        assertEquals(1.0, registry.get("polarscale.failures").tags("operation", "addStandby", "reason",
                "PORT_IN_USE").counter().count());
        assertEquals(1, registry.get("polarscale.operation").tags("operation", "addStandby", "outcome", "failed")
                .timer().count());

        // the node goes: its gauges go with it
        scaler.scaleTo(ScaleTarget.count(0, policy));
        assertNull(registry.find("polarscale.replication.lag.size").tag("node", "standby-1").gauge());
        assertNull(registry.find("polarscale.slot.wal.retained").tag("slot", "standby_1").gauge());
        assertEquals(0.0, registry.get("polarscale.nodes").gauge().value());
        assertEquals(1, registry.get("polarscale.operation").tags("operation", "removeNode", "outcome", "done")
                .timer().count());
        for (Meter m : registry.getMeters()) {
            System.out.println(m.getId());
        }

        metrics.close();
        assertTrue(registry.getMeters().isEmpty(), "close() removes the binder's meters");
        scaler.addStandby(NodeSpec.builder().name("after").port(freePort()).dataDirectory(base.resolve("after"))
                .build());
        assertTrue(registry.getMeters().isEmpty(), "and it stops listening");
        assertNotNull(scaler.status().node("after").orElse(null));
    }
}
