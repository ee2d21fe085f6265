package dev.polarscale.replication;

import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PgInstallation;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which followers take reads, the URL, and the builder's refusals; no server runs. */
class ReadRoutingTest {
    private final RecordingExecutor host = new RecordingExecutor("10.0.0.1");
    private final ClusterScaler scaler = ClusterScaler.forCluster(ClusterSpec.builder()
            .primary("primary", "10.0.0.1", 5432, Path.of("/srv/polar/primary")).host("10.0.0.1", host)
            .installation(new PgInstallation(Path.of("/opt/pg/bin"))).osUser("postgres").build());

    private static NodeStatus primary() {
        return new NodeStatus("primary", NodeRole.PRIMARY, "10.0.0.1", 5432, true, Optional.of(false),
                Optional.empty(), Optional.empty(), OptionalLong.empty(), Optional.empty(), Optional.empty());
    }

    private static NodeStatus follower(String name, int port, boolean reachable, String state, long lagBytes,
                                       Duration lag) {
        return new NodeStatus(name, NodeRole.STANDBY, "10.0.0." + (port - 5430), port, reachable,
                reachable ? Optional.of(true) : Optional.empty(), Optional.of(state != null),
                Optional.ofNullable(state), lagBytes < 0 ? OptionalLong.empty() : OptionalLong.of(lagBytes),
                Optional.ofNullable(lag), reachable ? Optional.empty() : Optional.of("Connection refused"));
    }

    @Test
    void onlyHealthyFollowersWithinBothBoundsQualify() {
        ClusterStatus status = new ClusterStatus(List.of(primary(),
                follower("fresh", 5433, true, "streaming", 0, null),
                follower("unknown-lag", 5434, true, "streaming", -1, null),
                follower("far-behind", 5435, true, "streaming", 2_000_000, Duration.ofMillis(5)),
                follower("slow-replay", 5436, true, "streaming", 10, Duration.ofSeconds(3)),
                follower("at-bound", 5437, true, "streaming", 1_000_000, Duration.ofSeconds(1)),
                follower("catchup", 5438, true, "catchup", 0, null),
                follower("stopped", 5439, false, null, -1, null)));
        List<String> chosen = ReadRouting.eligible(status, 1_000_000, Duration.ofSeconds(1)).stream()
                .map(NodeStatus::name).toList();
        assertEquals(List.of("fresh", "unknown-lag", "at-bound"), chosen,
                "the primary, lagging, catching-up and unreachable nodes take no reads");
    }

    @Test
    void urlListsTheFollowersThenThePrimary() {
        assertEquals("jdbc:postgresql://10.0.0.2:5433,[fd00::3]:5434,10.0.0.1:5432/app"
                        + "?targetServerType=preferSecondary&loadBalanceHosts=true&connectTimeout=2"
                        + "&options=-c+statement_timeout%3D5s",
                ReadRouting.jdbcUrl(List.of(ReadRouting.hostPort("10.0.0.2", 5433),
                        ReadRouting.hostPort("fd00::3", 5434), ReadRouting.hostPort("10.0.0.1", 5432)), "app", true,
                        orderedProps()));
        assertEquals("jdbc:postgresql://10.0.0.2:5433/postgres?targetServerType=secondary&loadBalanceHosts=true",
                ReadRouting.jdbcUrl(List.of("10.0.0.2:5433"), "postgres", false, Map.of()),
                "without the primary fallback only secondaries are acceptable");
    }

    private static Map<String, String> orderedProps() {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("connectTimeout", "2");
        m.put("options", "-c statement_timeout=5s");
        return m;
    }

    @Test
    void builderRefusesBadValuesAtOnce() {
        ReadRouting.Builder b = ReadRouting.builder(scaler);
        IllegalStateException noCredentials = assertThrows(IllegalStateException.class, b::build);
        assertTrue(noCredentials.getMessage().contains("asSuperuser()"), noCredentials.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.maxLagBytes(-1));
        assertThrows(IllegalArgumentException.class, () -> b.maxLag(Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> b.refreshEvery(Duration.ofMillis(99)));
        assertThrows(IllegalArgumentException.class, () -> b.maximumPoolSize(0));
        assertThrows(IllegalArgumentException.class, () -> b.drainTimeout(Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> b.database("Bad;Name"));
        assertThrows(IllegalArgumentException.class, () -> b.credentials("", "x"));
        assertThrows(IllegalArgumentException.class, () -> b.credentials("app\n", "x"));
        for (String reserved : List.of("targetServerType", "LOADBALANCEHOSTS", "password", "user")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.property(reserved, "x"));
            assertTrue(e.getMessage().contains(reserved), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> b.property("a&b", "x"));
        assertThrows(IllegalArgumentException.class, () -> b.property("ssl", "true\r\n"));
        assertTrue(host.commands.isEmpty(), "nothing ran");
    }
}
