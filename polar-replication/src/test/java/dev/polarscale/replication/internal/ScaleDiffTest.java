package dev.polarscale.replication.internal;

import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PolarException;
import dev.polarscale.replication.NamingPolicy;
import dev.polarscale.replication.NodeSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reconcile's decision logic: what a target adds and removes, and in which order. */
class ScaleDiffTest {
    private static final ScaleDiff.Member PRIMARY = new ScaleDiff.Member("primary", NodeRole.PRIMARY, "h1", 5432,
            "/d/primary");
    private static final NamingPolicy POLICY = NamingPolicy.builder().prefix("standby-").ports(5433, 5440)
            .dataDirectories(Path.of("/d")).build();
    private static final ScaleDiff.PortProbe NOTHING_LISTENS = (h, p) -> false;
    private static final Supplier<Set<String>> ALL_HEALTHY = Set::of;
    private static final Supplier<Set<String>> NOT_ASKED = () -> {
        throw new AssertionError("health must not be asked when there is no choice");
    };

    private static ScaleDiff.Member standby(String name, int port) {
        return new ScaleDiff.Member(name, NodeRole.STANDBY, "h1", port, "/d/" + name);
    }

    private static List<ScaleDiff.Member> members(ScaleDiff.Member... m) {
        List<ScaleDiff.Member> l = new ArrayList<>(List.of(PRIMARY));
        l.addAll(List.of(m));
        return l;
    }

    private static List<String> render(List<ScaleDiff.Change> changes) {
        return changes.stream().map(c -> (c instanceof ScaleDiff.Add ? "+" : "-") + c.node() + " " + c.where()).toList();
    }

    @Test
    void fromNothingToThreeTakesTheLowestNumbersPortsAndTheirDirectories() {
        List<ScaleDiff.Change> c = ScaleDiff.forCount(3, POLICY, members(), "h1", Set.of(), NOTHING_LISTENS, NOT_ASKED);
        assertEquals(List.of("+standby-1 h1:5433 /d/standby-1", "+standby-2 h1:5434 /d/standby-2",
                "+standby-3 h1:5435 /d/standby-3"), render(c));
        assertEquals("h1", ((ScaleDiff.Add) c.get(0)).spec().host().orElseThrow(), "the host is always explicit");
    }

    @Test
    void freeNumbersAndPortsAreReusedAndBusyOnesSkipped() {
        // standby-2 holds 5434; something foreign listens on 5433 and 5435; 5436 is held by an
        // interrupted add that recovery undoes first: free for the plan
        List<ScaleDiff.Change> c = ScaleDiff.forCount(3, POLICY, members(standby("standby-2", 5434)), "h1",
                Set.of("h1:5436"), (h, p) -> p == 5433 || p == 5435 || p == 5436, NOT_ASKED);
        assertEquals(List.of("+standby-1 h1:5436 /d/standby-1", "+standby-3 h1:5437 /d/standby-3"), render(c));
    }

    @Test
    void aNameWhoseSlotIsTakenIsSkipped() {
        // standby_1 (added by hand) is not governed, but its slot is the one standby-1 would have
        List<ScaleDiff.Change> c = ScaleDiff.forCount(1, POLICY, members(standby("standby_1", 5433)), "h1", Set.of(),
                NOTHING_LISTENS, NOT_ASKED);
        assertEquals(List.of("+standby-2 h1:5434 /d/standby-2"), render(c));
    }

    @Test
    void nodesOfOtherNamesAreNeitherCountedNorRemoved() {
        List<ScaleDiff.Member> m = members(standby("manual", 6000), standby("standby-01", 6001),
                standby("standby-1a", 6002), standby("replica-1", 6003), standby("standby-1", 5433));
        assertTrue(ScaleDiff.forCount(1, POLICY, m, "h1", Set.of(), NOTHING_LISTENS, NOT_ASKED).isEmpty());
        assertEquals(List.of("-standby-1 h1:5433 /d/standby-1"),
                render(ScaleDiff.forCount(0, POLICY, m, "h1", Set.of(), NOTHING_LISTENS, NOT_ASKED)));
    }

    @Test
    void scaleInRemovesUnhealthyNodesFirstThenTheHighestNumbers() {
        List<ScaleDiff.Member> m = members(standby("standby-1", 5433), standby("standby-2", 5434),
                standby("standby-3", 5435), standby("standby-4", 5436));
        assertEquals(List.of("-standby-2", "-standby-4", "-standby-3"), ScaleDiff.forCount(1, POLICY, m, "h1",
                Set.of(), NOTHING_LISTENS, () -> Set.of("standby-2", "manual")).stream()
                .map(c -> "-" + c.node()).toList());
        assertEquals(List.of("-standby-4", "-standby-3"), ScaleDiff.forCount(2, POLICY, m, "h1", Set.of(),
                NOTHING_LISTENS, ALL_HEALTHY).stream().map(c -> "-" + c.node()).toList());
        assertEquals(4, ScaleDiff.forCount(0, POLICY, m, "h1", Set.of(), NOTHING_LISTENS, NOT_ASKED).size(),
                "all go: no need to ask who is healthy");
    }

    @Test
    void newNodesGoToThePolicyHostWithTheFewestOfThem() {
        NamingPolicy spread = NamingPolicy.builder().prefix("r-").ports(5433).dataDirectories(Path.of("/d"))
                .hosts("h2", "h3").build();
        ScaleDiff.Member onH2 = new ScaleDiff.Member("r-1", NodeRole.STANDBY, "h2", 5433, "/d/r-1");
        List<ScaleDiff.Change> c = ScaleDiff.forCount(4, spread, members(onH2), "h1", Set.of(), NOTHING_LISTENS,
                NOT_ASKED);
        assertEquals(List.of("+r-2 h3:5433 /d/r-2", "+r-3 h2:5434 /d/r-3", "+r-4 h3:5434 /d/r-4"), render(c),
                "ports count per host; the primary's port on h1 is no concern of h2");
    }

    @Test
    void noFreePortIsRefusedBeforeAnyChange() {
        NamingPolicy narrow = NamingPolicy.builder().prefix("s-").ports(5433, 5434).dataDirectories(Path.of("/d"))
                .build();
        PolarException e = assertThrows(PolarException.class, () -> ScaleDiff.forCount(3, narrow, members(), "h1",
                Set.of(), NOTHING_LISTENS, NOT_ASKED));
        assertEquals(PolarException.Reason.PORT_IN_USE, e.reason());
        assertTrue(e.getMessage().contains("5433..5434"), e.getMessage());
    }

    private static NodeSpec spec(String name, int port) {
        return NodeSpec.builder().name(name).port(port).dataDirectory(Path.of("/d/" + name)).build();
    }

    @Test
    void anExplicitListRemovesTheUnlistedFirstThenAddsInListOrder() {
        List<ScaleDiff.Member> m = members(standby("a", 5433), standby("b", 5434), standby("c", 5435));
        List<ScaleDiff.Change> c = ScaleDiff.forNodes(List.of(spec("z", 5440), spec("b", 5434), spec("y", 5441)), m,
                "primary", "h1", NodeRole.STANDBY);
        assertEquals(List.of("-a h1:5433 /d/a", "-c h1:5435 /d/c", "+z h1:5440 /d/z", "+y h1:5441 /d/y"), render(c));
        assertTrue(ScaleDiff.forNodes(List.of(spec("a", 5433), spec("b", 5434), spec("c", 5435)), m, "primary", "h1",
                NodeRole.STANDBY).isEmpty());
    }

    @Test
    void aListedNodeRegisteredDifferentlyIsAnErrorNotAReplacement() {
        List<ScaleDiff.Member> m = members(standby("a", 5433));
        PolarException moved = assertThrows(PolarException.class, () -> ScaleDiff.forNodes(List.of(spec("a", 5439)),
                m, "primary", "h1", NodeRole.STANDBY));
        assertEquals(PolarException.Reason.NODE_EXISTS, moved.reason());
        assertTrue(moved.getMessage().contains("5433") && moved.getMessage().contains("5439"), moved.getMessage());
        assertEquals(PolarException.Reason.NODE_EXISTS, assertThrows(PolarException.class, () -> ScaleDiff.forNodes(
                List.of(spec("a", 5433)), m, "primary", "h1", NodeRole.REPLICA)).reason(), "another role");
        assertThrows(IllegalArgumentException.class, () -> ScaleDiff.forNodes(List.of(spec("primary", 5433)), m,
                "primary", "h1", NodeRole.STANDBY));
    }

    @Test
    void theMembershipAfterEachChangeIsWhatTheNextChangeChecks() {
        List<ScaleDiff.Member> start = members(standby("a", 5433));
        List<ScaleDiff.Change> c = ScaleDiff.forNodes(List.of(spec("b", 5434)), start, "primary", "h1",
                NodeRole.STANDBY);
        List<ScaleDiff.Member> afterRemove = ScaleDiff.after(start, c.get(0), NodeRole.STANDBY);
        assertEquals(List.of(PRIMARY), afterRemove);
        List<ScaleDiff.Member> afterAdd = ScaleDiff.after(afterRemove, c.get(1), NodeRole.STANDBY);
        assertEquals(List.of(PRIMARY, new ScaleDiff.Member("b", NodeRole.STANDBY, "h1", 5434, "/d/b")), afterAdd);
        assertTrue(ScaleDiff.same(List.of(afterAdd.get(1), PRIMARY), afterAdd), "order aside");
        assertFalse(ScaleDiff.same(afterAdd, List.of(PRIMARY, new ScaleDiff.Member("b", NodeRole.STANDBY, "h1", 5435,
                "/d/b"))), "another port is another node");
    }
}
