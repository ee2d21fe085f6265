package dev.polarscale.replication;

import dev.polarscale.core.PostgresNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Read routing on a real primary and three standbys: the URL and the pooled data source spread
 * reads over the healthy followers, as an application role of its own; a follower that lags,
 * stops or is removed gets no new connection after the refresh that drops it (manual or
 * periodic), one added gets its share, a borrowed connection survives a refresh, and with every
 * follower behind the primary takes the reads (or nothing, without the fallback).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReadRoutingIT {
    private static final String READER = "reader";
    private static final String READER_PASSWORD = "Read-Only-Secret-1";
    /** Held at once: with three followers, the chance that one gets none of 30 is 3 * (2/3)^30, about 1.6e-5. */
    private static final int CONNECTIONS = 30;

    private static LocalCluster cluster;
    private static ReadRouting reads;

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().standbys(3).verifyTimeout(Duration.ofSeconds(30)).build().start();
        try (Connection c = cluster.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + READER + " LOGIN PASSWORD '" + READER_PASSWORD + "'");
            s.execute("GRANT pg_read_all_data TO " + READER);
            s.execute("CREATE TABLE t (id int, pad text)");
        }
        for (String standby : cluster.standbyNames()) {
            await(standby + " knows the reader role", () -> {
                try (Connection c = DriverManager.getConnection(cluster.jdbcUrl(standby), READER, READER_PASSWORD)) {
                    return true;
                } catch (SQLException e) {
                    return false;
                }
            });
        }
        reads = ReadRouting.builder(cluster.scaler()).credentials(READER, READER_PASSWORD)
                .maxLagBytes(1024 * 1024).maximumPoolSize(CONNECTIONS)
                .property("hostRecheckSeconds", "1").build();
    }

    @AfterAll
    static void stop() {
        if (reads != null) {
            reads.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void readsSpreadOverTheFollowersThroughTheUrlAndThePool() throws SQLException {
        assertEquals(List.of("standby1", "standby2", "standby3"), reads.followers());
        assertEquals("jdbc:postgresql://127.0.0.1:" + port("standby1") + ",127.0.0.1:" + port("standby2")
                + ",127.0.0.1:" + port("standby3") + ",127.0.0.1:" + port(LocalCluster.PRIMARY)
                + "/postgres?targetServerType=preferSecondary&loadBalanceHosts=true&hostRecheckSeconds=1",
                reads.jdbcUrl());
        Map<Integer, Integer> viaUrl = new TreeMap<>();
        for (int i = 0; i < 45; i++) {
            try (Connection c = DriverManager.getConnection(reads.jdbcUrl(), READER, READER_PASSWORD)) {
                viaUrl.merge(serverPort(c), 1, Integer::sum);
            }
        }
        System.out.println("45 connections through the URL, per port: " + viaUrl);
        assertEquals(ports("standby1", "standby2", "standby3"), viaUrl.keySet(), "every follower, never the primary");
        assertEquals(ports("standby1", "standby2", "standby3"), portsOfHeldConnections(reads.dataSource()));
    }

    @Test
    @Order(2)
    void aLaggingFollowerIsLeftOut_andWithAllBehindThePrimaryReads() throws Exception {
        exec("standby3", "SELECT pg_wal_replay_pause()");
        writeWal();
        await("standby3 left out", () -> refreshTo(List.of("standby1", "standby2")));
        Set<Integer> used = portsOfHeldConnections(reads.dataSource());
        assertEquals(ports("standby1", "standby2"), used, "no read on the lagging standby3");

        try (ReadRouting strict = ReadRouting.builder(cluster.scaler()).credentials(READER, READER_PASSWORD)
                .maxLagBytes(1024 * 1024).primaryFallback(false).build()) {
            exec("standby1", "SELECT pg_wal_replay_pause()");
            exec("standby2", "SELECT pg_wal_replay_pause()");
            writeWal();
            await("every follower left out", () -> refreshTo(List.of()) && strictRefreshTo(strict, List.of()));
            assertEquals("jdbc:postgresql://127.0.0.1:" + port(LocalCluster.PRIMARY) + "/postgres?targetServerType="
                    + "preferSecondary&loadBalanceHosts=true&hostRecheckSeconds=1", reads.jdbcUrl());
            try (Connection c = reads.dataSource().getConnection()) {
                assertEquals(port(LocalCluster.PRIMARY), serverPort(c), "the primary takes the reads");
            }
            assertThrows(IllegalStateException.class, strict::jdbcUrl);
            SQLException none = assertThrows(SQLException.class, () -> strict.dataSource().getConnection().close());
            assertEquals("08001", none.getSQLState());
            for (String s : List.of("standby1", "standby2", "standby3")) {
                exec(s, "SELECT pg_wal_replay_resume()");
            }
            await("all three back", () -> refreshTo(List.of("standby1", "standby2", "standby3"))
                    && strictRefreshTo(strict, List.of("standby1", "standby2", "standby3")));
            assertTrue(strict.jdbcUrl().endsWith("/postgres?targetServerType=secondary&loadBalanceHosts=true"),
                    strict.jdbcUrl());
            assertFalse(strict.jdbcUrl().contains(":" + port(LocalCluster.PRIMARY) + "/"), "no primary in it");
        }
    }

    @Test
    @Order(3)
    void aStoppedFollowerIsLeftOutByThePeriodicRefresh_andABorrowedConnectionSurvives() throws Exception {
        // a connection borrowed before the change, on a follower that stays
        List<Connection> borrowed = new ArrayList<>();
        List<Integer> reached = new ArrayList<>();
        Connection kept = null;
        for (int i = 0; i < 10 && kept == null; i++) {
            Connection c = reads.dataSource().getConnection();
            borrowed.add(c);
            reached.add(serverPort(c));
            if (serverPort(c) != port("standby2")) {
                kept = c;
            }
        }
        assertTrue(kept != null, "a connection on standby1 or standby3 (ports " + ports("standby1", "standby3")
                + "); the connections reached " + reached + " through " + reads.jdbcUrl());
        for (Connection c : borrowed) {
            if (c != kept) {
                c.close();
            }
        }
        try (ReadRouting periodic = ReadRouting.builder(cluster.scaler()).credentials(READER, READER_PASSWORD)
                .refreshEvery(Duration.ofMillis(200)).build()) {
            PostgresNode standby2 = cluster.node("standby2");
            standby2.stop();
            try {
                await("the periodic refresh leaves standby2 out",
                        () -> periodic.followers().equals(List.of("standby1", "standby3")));
                assertTrue(reads.refresh(), "the hosts changed");
                assertEquals(1, reads.retiredPools(), "the old pool waits for the borrowed connection");
                assertEquals(1, exec(kept, "SELECT 1"), "a borrowed connection is not cut off");
                kept.close();
                assertEquals(ports("standby1", "standby3"), portsOfHeldConnections(reads.dataSource()));
                assertEquals(0, reads.retiredPools(), "the old pool closed once its connection was back");
            } finally {
                standby2.start();
            }
            await("the periodic refresh takes standby2 back",
                    () -> periodic.followers().equals(List.of("standby1", "standby2", "standby3")));
        }
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.isAlive()
                && t.getName().equals("polarscale-read-routing")), "close() stopped the refresh thread");
    }

    @Test
    @Order(4)
    void aRemovedFollowerGetsNoMoreReads_andAnAddedOneGetsItsShare() throws Exception {
        int removedPort = port("standby1");
        cluster.removeNode("standby1");
        assertTrue(reads.refresh());
        assertEquals(List.of("standby2", "standby3"), reads.followers());
        Set<Integer> used = portsOfHeldConnections(reads.dataSource());
        assertFalse(used.contains(removedPort), "no read on the removed standby1");
        assertEquals(ports("standby2", "standby3"), used);

        cluster.addStandby("standby4");
        await("standby4 takes reads", () -> refreshTo(List.of("standby2", "standby3", "standby4")));
        assertEquals(ports("standby2", "standby3", "standby4"), portsOfHeldConnections(reads.dataSource()));
    }

    @Test
    @Order(5)
    void closeEndsIt() {
        ReadRouting r = ReadRouting.builder(cluster.scaler()).asSuperuser().build();
        assertEquals(3, r.followers().size());
        r.close();
        r.close();
        assertThrows(SQLException.class, () -> r.dataSource().getConnection().close());
        assertThrows(IllegalStateException.class, r::refresh);
    }

    /** Borrows {@value #CONNECTIONS} connections at once and returns the ports they reached. */
    private static Set<Integer> portsOfHeldConnections(DataSource ds) throws SQLException {
        List<Connection> held = new ArrayList<>();
        try {
            Set<Integer> ports = new TreeSet<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                Connection c = ds.getConnection();
                held.add(c);
                ports.add(serverPort(c));
            }
            System.out.println(CONNECTIONS + " pooled connections on ports " + ports);
            return ports;
        } finally {
            for (Connection c : held) {
                c.close();
            }
        }
    }

    private static boolean refreshTo(List<String> expected) {
        reads.refresh();
        return reads.followers().equals(expected);
    }

    private static boolean strictRefreshTo(ReadRouting r, List<String> expected) {
        r.refresh();
        return r.followers().equals(expected);
    }

    /** About 8 MB of WAL on the primary. */
    private static void writeWal() throws SQLException {
        try (Connection c = cluster.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 30000) g");
        }
    }

    private static int serverPort(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static int port(String node) {
        return cluster.node(node).port().value();
    }

    private static Set<Integer> ports(String... nodes) {
        return java.util.Arrays.stream(nodes).map(ReadRoutingIT::port).collect(Collectors.toCollection(TreeSet::new));
    }

    private static void exec(String node, String sql) throws SQLException {
        try (Connection c = cluster.dataSource(node).getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static int exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(100);
        }
    }
}
