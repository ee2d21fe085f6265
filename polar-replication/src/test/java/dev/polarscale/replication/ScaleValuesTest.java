package dev.polarscale.replication;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The values of declarative scaling and of the event history refuse bad input at once. */
class ScaleValuesTest {
    private static final Path BASE = Path.of("/srv/polar");

    private static NamingPolicy.Builder policy() {
        return NamingPolicy.builder().prefix("standby-").ports(5433).dataDirectories(BASE);
    }

    @Test
    void aPolicyNamesItsNodesAndGovernsOnlyThose() {
        NamingPolicy p = policy().build();
        assertEquals("standby-7", p.name(7));
        assertEquals(7, p.number("standby-7").getAsInt());
        assertEquals(BASE.resolve("standby-7"), p.dataDirectory("standby-7"));
        for (String other : List.of("standby-0", "standby-01", "standby-", "standby-1a", "xstandby-1", "standby_1",
                "standby-1234567")) {
            assertFalse(p.governs(other), other);
        }
        assertEquals(65535, p.lastPort().value());
        assertTrue(p.hosts().isEmpty());
    }

    @Test
    void aPolicyRefusesBadValues() {
        for (String bad : List.of("", "Standby-", "node1", "-x", "a b", "a'", "x".repeat(57))) {
            assertThrows(IllegalArgumentException.class, () -> NamingPolicy.builder().prefix(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> NamingPolicy.builder().ports(0));
        assertThrows(IllegalArgumentException.class, () -> NamingPolicy.builder().ports(5440, 5433));
        assertThrows(IllegalArgumentException.class, () -> NamingPolicy.builder().dataDirectories(Path.of("rel")));
        assertThrows(IllegalArgumentException.class, () -> NamingPolicy.builder().hosts("a b"));
        assertThrows(IllegalArgumentException.class, () -> NamingPolicy.builder().hosts("10.0.0.2", "10.0.0.2"));
        assertThrows(IllegalStateException.class, () -> NamingPolicy.builder().prefix("s-").ports(5433).build());
        assertThrows(IllegalStateException.class, () -> NamingPolicy.builder().prefix("s-").dataDirectories(BASE)
                .build());
        assertThrows(IllegalArgumentException.class, () -> policy().build().name(0));
    }

    private static NodeSpec node(String name, String host, int port, String dir) {
        NodeSpec.Builder b = NodeSpec.builder().name(name).port(port).dataDirectory(Path.of(dir));
        return (host == null ? b : b.host(host)).build();
    }

    @Test
    void targetsRefuseBadValues() {
        NamingPolicy p = policy().build();
        assertThrows(IllegalArgumentException.class, () -> ScaleTarget.count(-1, p));
        assertThrows(IllegalArgumentException.class, () -> ScaleTarget.count(ScaleTarget.MAX_FOLLOWERS + 1, p));
        assertThrows(NullPointerException.class, () -> ScaleTarget.count(1, null));
        assertThrows(IllegalArgumentException.class, () -> ScaleTarget.nodes(List.of(node("a", null, 5433, "/d/a"),
                node("a", null, 5434, "/d/b"))), "a name twice");
        assertThrows(IllegalArgumentException.class, () -> ScaleTarget.nodes(List.of(node("a-1", null, 5433, "/d/a"),
                node("a_1", null, 5434, "/d/b"))), "one slot for two");
        assertThrows(IllegalArgumentException.class, () -> ScaleTarget.nodes(List.of(node("a", null, 5433, "/d/a"),
                node("b", null, 5433, "/d/b"))), "a port twice");
        assertThrows(IllegalArgumentException.class, () -> ScaleTarget.nodes(List.of(node("a", "10.0.0.2", 5433,
                "/d/a"), node("b", "10.0.0.2", 5434, "/d/a"))), "a directory twice on one host");
        assertEquals(2, ScaleTarget.nodes(List.of(node("a", "10.0.0.2", 5433, "/d/a"), node("b", "10.0.0.3", 5433,
                "/d/a"))).nodes().orElseThrow().size(), "the same port and directory on two hosts");
        assertTrue(ScaleTarget.count(2, p).removeOptions().deleteData(), "a policy's directories go with its nodes");
        assertFalse(ScaleTarget.nodes(List.of()).removeOptions().deleteData(), "others' directories stay");
        assertEquals("2 x standby-<n>", ScaleTarget.count(2, p).toString());
    }

    @Test
    void queriesAndRetentionRefuseBadValues() {
        assertThrows(IllegalArgumentException.class, () -> EventQuery.latest(0));
        assertThrows(IllegalArgumentException.class, () -> EventQuery.latest(EventQuery.MAX_LIMIT + 1));
        assertThrows(IllegalArgumentException.class, () -> EventQuery.latest(1).node("x'; DROP TABLE t"));
        assertThrows(IllegalArgumentException.class, () -> EventQuery.latest(1).operation("add standby"));
        EventQuery q = EventQuery.latest(5).since(Instant.EPOCH).node("standby-1").operation("addStandby");
        assertEquals(Optional.of("standby-1"), q.node());
        assertThrows(IllegalArgumentException.class, () -> new EventRetention(99, Duration.ofDays(1)));
        assertThrows(IllegalArgumentException.class, () -> new EventRetention(1000, Duration.ofMinutes(59)));
        assertThrows(NullPointerException.class, () -> ClusterSpec.builder().eventRetention(null));
        assertEquals(EventRetention.DEFAULT, ClusterSpec.builder().primary("p", "127.0.0.1", 5432, BASE).build()
                .eventRetention());
    }

    @Test
    void anEventPrintsOnOneLine() {
        ScaleEvent e = new ScaleEvent(Instant.parse("2026-01-02T03:04:05Z"), "id", "addStandby", "standby-1",
                Optional.of("start"), ScaleEvent.Outcome.FAILED, Optional.of(Duration.ofMillis(12)),
                Optional.of("START_FAILED"), Optional.of("no\nluck"), "1@h");
        assertEquals("2026-01-02T03:04:05Z addStandby standby-1 [start] FAILED 12 ms START_FAILED: no luck by 1@h",
                e.toString());
        assertThrows(IllegalArgumentException.class, () -> new ScaleEvent(Instant.EPOCH, "id", "addStandby", "n",
                Optional.of("start"), ScaleEvent.Outcome.STARTED, Optional.empty(), Optional.empty(), Optional.empty(),
                "w"), "steps have no STARTED");
    }

    @Test
    void aPlanPrintsItsChangesAndComparesThemByWhatTheyDo() {
        PlannedStep lock = new PlannedStep("lock", "h", List.of("SELECT pg_try_advisory_lock(...)"));
        ScalePlan.Change add = new ScalePlan.Change(ScalePlan.Change.Action.ADD_STANDBY, "standby-2",
                "h:5434 /d/standby-2", List.of(lock));
        ScalePlan.Change rm = new ScalePlan.Change(ScalePlan.Change.Action.REMOVE, "standby-3", "h:5435 /d/standby-3",
                List.of());
        ScalePlan plan = new ScalePlan(ScaleTarget.count(2, policy().build()), List.of("addStandby x: undone"),
                List.of(add, rm));
        assertEquals("scale to 2 x standby-<n>: 2 change(s)\n  recover: addStandby x: undone\n"
                + "  + standby-2  addStandby  h:5434 /d/standby-2\n  - standby-3  removeNode  h:5435 /d/standby-3\n",
                plan.summary());
        assertTrue(plan.toString().contains("    SELECT pg_try_advisory_lock(...)"), plan.toString());
        assertTrue(add.sameAs(new ScalePlan.Change(ScalePlan.Change.Action.ADD_STANDBY, "standby-2",
                "h:5434 /d/standby-2", List.of())), "steps aside");
        assertFalse(add.sameAs(new ScalePlan.Change(ScalePlan.Change.Action.ADD_STANDBY, "standby-2",
                "h:5436 /d/standby-2", List.of())));
        assertTrue(new ScalePlan(ScaleTarget.nodes(List.of()), List.of(), List.of()).isEmpty());
    }
}
