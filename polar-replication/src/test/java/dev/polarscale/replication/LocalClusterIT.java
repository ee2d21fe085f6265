package dev.polarscale.replication;

import dev.polarscale.core.NodeState;
import dev.polarscale.core.PostgresNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fixture itself: it starts what it says, hands out working data sources, and leaves nothing. */
class LocalClusterIT {

    @Test
    void startServeScaleAndCloseTwice() throws Exception {
        LocalCluster cluster = LocalCluster.builder().standbys(1).build();
        assertThrows(IllegalStateException.class, cluster::status, "not started yet");
        cluster.start();
        Path base = cluster.baseDirectory();
        List<PostgresNode> nodes;
        try {
            assertEquals(List.of("primary", "standby1"), cluster.nodeNames());
            assertEquals(2, cluster.reports().size(), "deploy and one add");
            try (Connection c = cluster.dataSource().getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t AS SELECT generate_series(1, 5) AS id");
            }
            assertEquals(5, countOn(cluster, "standby1", 5));

            cluster.addStandby("extra");
            assertEquals(5, countOn(cluster, "extra", 5));
            nodes = List.of(cluster.primary(), cluster.node("standby1"), cluster.node("extra"));
            assertTrue(cluster.status().nodes().stream().allMatch(NodeStatus::healthy), cluster.status().toTable());
            cluster.removeNode("extra");
            assertFalse(Files.exists(base.resolve("extra")));
            assertEquals(List.of("primary", "standby1"), cluster.nodeNames());
            assertThrows(IllegalArgumentException.class, () -> cluster.node("extra"));
        } finally {
            cluster.close();
        }
        cluster.close(); // a no-op
        assertFalse(Files.exists(base), "base directory deleted");
        for (PostgresNode n : nodes) {
            assertEquals(NodeState.NO_DATA_DIRECTORY, n.status(), n.name());
            assertThrows(IOException.class, () -> new Socket("127.0.0.1", n.port().value()).close(),
                    n.name() + " still listens");
        }
        assertThrows(IllegalStateException.class, () -> cluster.addStandby("late"));
        assertThrows(IllegalStateException.class, cluster::start);
    }

    @Test
    void aGivenNonEmptyBaseIsRefusedBeforeAnyServerStarts() throws IOException {
        Path dir = Files.createTempDirectory("polarscale-local-it-");
        try {
            Files.writeString(dir.resolve("precious"), "x");
            LocalCluster cluster = LocalCluster.builder().baseDirectory(dir).build();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, cluster::start);
            assertTrue(e.getMessage().contains("not empty"), e.getMessage());
            assertTrue(Files.exists(dir.resolve("precious")));
        } finally {
            Files.deleteIfExists(dir.resolve("precious"));
            Files.deleteIfExists(dir);
        }
    }

    private static long countOn(LocalCluster cluster, String node, long expected) throws SQLException {
        try (Connection c = cluster.dataSource(node).getConnection()) {
            return Procs.awaitCount(c, "SELECT count(*) FROM t", expected, Duration.ofSeconds(10));
        }
    }
}
