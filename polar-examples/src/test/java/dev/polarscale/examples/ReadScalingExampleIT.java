package dev.polarscale.examples;

import dev.polarscale.replication.LocalCluster;
import dev.polarscale.replication.NodeStatus;
import dev.polarscale.replication.junit.WithLocalCluster;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How a platform's own integration tests use PolarScale: a cluster injected by the extension,
 * writes through the primary's {@link DataSource}, reads on every standby, and a scale-out and
 * scale-in while the test runs.
 */
@WithLocalCluster(standbys = 2)
class ReadScalingExampleIT {

    @Test
    void rowsWrittenOnThePrimaryAreReadOnEveryStandbyAlsoOneAddedAtRunTime(LocalCluster cluster) throws SQLException {
        assertEquals(List.of("standby1", "standby2"), cluster.standbyNames());
        try (Connection c = cluster.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE orders(id int PRIMARY KEY, item text NOT NULL)");
            s.execute("INSERT INTO orders SELECT i, 'item ' || i FROM generate_series(1, 100) i");
        }
        for (String standby : cluster.standbyNames()) {
            assertEquals(100, awaitRows(cluster.dataSource(standby), 100), standby);
            try (Connection c = cluster.dataSource(standby).getConnection(); Statement s = c.createStatement()) {
                SQLException e = assertThrows(SQLException.class, () -> s.execute("INSERT INTO orders VALUES (101, 'x')"));
                assertEquals("25006", e.getSQLState(), standby + " must be read-only: " + e.getMessage());
            }
        }

        cluster.addStandby("standby3");
        assertEquals(100, awaitRows(cluster.dataSource("standby3"), 100));
        try (Connection c = cluster.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO orders VALUES (?, ?)")) {
            ps.setInt(1, 101);
            ps.setString(2, "after scale-out");
            ps.executeUpdate();
        }
        assertEquals(101, awaitRows(cluster.dataSource("standby3"), 101));
        List<NodeStatus> nodes = cluster.status().nodes();
        assertEquals(4, nodes.size(), cluster.status().toTable());
        assertTrue(nodes.stream().allMatch(NodeStatus::healthy), cluster.status().toTable());

        cluster.removeNode("standby3");
        assertEquals(List.of("standby1", "standby2"), cluster.standbyNames());
        assertTrue(cluster.scaler().slots().list().stream().noneMatch(s -> s.name().value().equals("standby3")));
        assertEquals(3, cluster.status().nodes().size());
    }

    private static long awaitRows(DataSource ds, long expected) throws SQLException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            while (true) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM orders")) {
                    rs.next();
                    long n = rs.getLong(1);
                    if (n == expected || System.nanoTime() > deadline) {
                        return n;
                    }
                } catch (SQLException e) {
                    if (!"42P01".equals(e.getSQLState()) || System.nanoTime() > deadline) {
                        throw e;
                    }
                }
            }
        }
    }
}
