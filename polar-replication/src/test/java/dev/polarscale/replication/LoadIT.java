package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.Executors;
import dev.polarscale.core.PostgresNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JDBC write load on the primary (three writers on 127.0.0.1, bounded in count and time)
 * while standbys are added and removed: no transaction on the primary fails, every new node
 * answers reads from the moment addStandby returns, and the last standby ends with every row.
 */
class LoadIT {
    private static final int WRITERS = 3;
    private static final long MAX_TX_PER_WRITER = 200_000;
    private static final Duration MAX_LOAD_TIME = Duration.ofSeconds(120);

    private static Path base;
    private static ClusterScaler scaler;

    @BeforeAll
    static void deploy() throws IOException {
        base = Files.createTempDirectory("polarscale-load-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        scaler = ClusterScaler.forCluster(ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Procs.freePort(), base.resolve("primary"))
                .verifyTimeout(Duration.ofSeconds(30)).build());
        scaler.deployPrimary();
    }

    @AfterAll
    static void tearDown() {
        if (scaler != null) {
            PostgresNode primary = scaler.primaryNode();
            scaler.close();
            primary.stop();
        }
        Executors.local().run(Command.of("rm", "-rf", "--", base.toString()));
    }

    /** Reads on one node in a loop until stopped; every failure is kept. */
    private static final class Reader extends Thread {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong reads = new AtomicLong();
        final List<String> failures = new CopyOnWriteArrayList<>();
        private final PostgresNode node;

        Reader(PostgresNode node) {
            super("reader-" + node.name());
            this.node = node;
        }

        @Override
        public void run() {
            try (Connection c = node.connect(); Statement s = c.createStatement()) {
                while (!stop.get()) {
                    try (ResultSet rs = s.executeQuery("SELECT count(*) FROM load")) {
                        rs.next();
                        reads.incrementAndGet();
                    }
                    Thread.sleep(5);
                }
            } catch (SQLException | InterruptedException e) {
                failures.add(node.name() + ": " + e);
            }
        }

        long finish() throws InterruptedException {
            stop.set(true);
            join(10_000);
            return reads.get();
        }
    }

    @Test
    void writesNeverFailWhileStandbysComeAndGo() throws Exception {
        PostgresNode primary = scaler.primaryNode();
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE load (id bigserial PRIMARY KEY, writer int NOT NULL, n bigint NOT NULL, "
                    + "at timestamptz NOT NULL DEFAULT clock_timestamp())");
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong committed = new AtomicLong();
        List<String> failures = new CopyOnWriteArrayList<>();
        long deadline = System.nanoTime() + MAX_LOAD_TIME.toNanos();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            Thread t = new Thread(() -> {
                try (Connection c = primary.connect();
                     PreparedStatement ps = c.prepareStatement("INSERT INTO load (writer, n) VALUES (?, ?)")) {
                    for (long n = 0; n < MAX_TX_PER_WRITER && !stop.get() && System.nanoTime() < deadline; n++) {
                        try {
                            ps.setInt(1, writer);
                            ps.setLong(2, n);
                            ps.executeUpdate();
                            committed.incrementAndGet();
                        } catch (SQLException e) {
                            failures.add("writer " + writer + " tx " + n + ": " + e.getMessage());
                        }
                    }
                } catch (SQLException e) {
                    failures.add("writer " + writer + " connection: " + e.getMessage());
                }
            }, "writer-" + w);
            t.start();
            writers.add(t);
        }

        List<String> readFailures = new ArrayList<>();
        long reads = 0;
        long t0 = System.nanoTime();
        List<String> timeline = new ArrayList<>();
        Reader r1 = add("load1", timeline, committed);
        Reader r2 = add("load2", timeline, committed);
        reads += r1.finish();
        readFailures.addAll(r1.failures);
        remove("load1", timeline, committed);
        Reader r3 = add("load3", timeline, committed);
        reads += r2.finish();
        readFailures.addAll(r2.failures);
        remove("load2", timeline, committed);
        Thread.sleep(500);
        reads += r3.finish();
        readFailures.addAll(r3.failures);

        stop.set(true);
        for (Thread t : writers) {
            t.join(30_000);
        }
        long seconds = Math.max(1, (System.nanoTime() - t0) / 1_000_000_000);
        long onPrimary = count(primary);
        long onStandby = awaitCount(scaler.node("load3"), onPrimary);
        System.out.printf("LoadIT: %d writers, %d transactions committed (%d/s), %d failed; "
                        + "%d reads on new standbys, %d failed; rows on primary %d, on load3 %d%n",
                WRITERS, committed.get(), committed.get() / seconds, failures.size(), reads, readFailures.size(),
                onPrimary, onStandby);
        timeline.forEach(l -> System.out.println("LoadIT: " + l));
        scaler.removeNode("load3", RemoveOptions.defaults().withDeleteData(true));

        assertEquals(List.of(), failures, "no failed transaction on the primary");
        assertEquals(List.of(), readFailures, "reads on every node succeed from the moment addStandby returns");
        assertTrue(committed.get() > 0);
        assertEquals(committed.get(), onPrimary, "every acknowledged commit is on the primary");
        assertEquals(onPrimary, onStandby, "nothing lost on the standby");
    }

    private static Reader add(String name, List<String> timeline, AtomicLong committed) throws SQLException {
        NodeSpec node = NodeSpec.builder().name(name).port(Procs.freePort()).dataDirectory(base.resolve(name)).build();
        long before = committed.get();
        OperationReport r = scaler.addStandby(node);
        PostgresNode n = scaler.node(name);
        // the first read right after addStandby returns, before any retry could hide a failure
        long first = count(n);
        Reader reader = new Reader(n);
        reader.start();
        timeline.add(String.format("add %s %d ms (canary lag %d µs), %d commits meanwhile, first read %d rows",
                name, r.total().toMillis(), r.canaryLag().toNanos() / 1000, committed.get() - before, first));
        return reader;
    }

    private static void remove(String name, List<String> timeline, AtomicLong committed) {
        long before = committed.get();
        OperationReport r = scaler.removeNode(name, RemoveOptions.defaults().withDeleteData(true));
        timeline.add(String.format("remove %s %d ms, %d commits meanwhile", name, r.total().toMillis(),
                committed.get() - before));
    }

    private static long count(PostgresNode node) throws SQLException {
        try (Connection c = node.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM load")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long awaitCount(PostgresNode node, long expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        long n = count(node);
        while (n != expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
            n = count(node);
        }
        return n;
    }
}
