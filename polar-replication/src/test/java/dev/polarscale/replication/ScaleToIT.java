package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.Executors;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Declarative scaling and the event history on real PostgreSQL 15 servers: a count target from 0
 * to 3 and back to 1 next to a node added by hand (never touched), the events of it all read back,
 * a failure and its undo recorded with the reason, a membership changed by another scaler between
 * plan and apply (the change stops before doing anything), and an explicit node list.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScaleToIT {
    private static Path base;
    private static ClusterSpec spec;
    private static ClusterScaler scaler;
    private static NamingPolicy policy;
    private static Instant began;

    @BeforeAll
    static void deploy() throws IOException {
        base = Files.createTempDirectory("polarscale-scaleto-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        spec = ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Procs.freePort(), base.resolve("primary"))
                .verifyTimeout(Duration.ofSeconds(30))
                .build();
        scaler = ClusterScaler.forCluster(spec);
        began = Instant.now();
        scaler.deployPrimary();
        int first = Procs.freePort();
        policy = NamingPolicy.builder().prefix("standby-").ports(first, Math.min(65535, first + 40))
                .dataDirectories(base).build();
    }

    @AfterAll
    static void tearDown() throws InterruptedException {
        if (scaler != null) {
            try {
                for (NodeStatus n : scaler.status().nodes()) {
                    if (n.role() != NodeRole.PRIMARY) {
                        scaler.removeNode(n.name(), RemoveOptions.defaults().withDeleteData(true));
                    }
                }
            } finally {
                PostgresNode primary = scaler.primaryNode();
                scaler.close();
                primary.stop();
            }
        }
        Executors.local().run(Command.of("rm", "-rf", "--", base.toString()));
        assertEquals("", Procs.awaitNoProcess(base.toString()), "no process of the cluster is left running");
        assertFalse(Files.exists(base), "nothing is left on disk");
    }

    private static NodeSpec manual(String name) {
        return NodeSpec.builder().name(name).port(Procs.freePort()).dataDirectory(base.resolve(name)).build();
    }

    private static Set<String> followers() {
        return scaler.status().nodes().stream().filter(n -> n.role() != NodeRole.PRIMARY).map(NodeStatus::name)
                .collect(Collectors.toSet());
    }

    @Test
    @Order(1)
    void zeroToThreeToOneLeavesTheHandAddedNodeAndRecordsEverything() {
        scaler.addStandby(manual("manual1"));
        Instant t0 = Instant.now();

        ScalePlan plan = scaler.planScale(ScaleTarget.count(3, policy));
        System.out.print(plan.summary());
        System.out.println(plan.changes().get(0).steps().stream().map(PlannedStep::name).toList());
        assertEquals(List.of("standby-1", "standby-2", "standby-3"),
                plan.changes().stream().map(ScalePlan.Change::node).toList(), "the lowest free numbers");
        assertTrue(plan.changes().stream().allMatch(c -> c.action() == ScalePlan.Change.Action.ADD_STANDBY));
        assertTrue(plan.changes().get(0).steps().stream().anyMatch(s -> s.name().equals("check membership")),
                "each change checks the membership under its lock");
        assertTrue(plan.changes().get(0).where().endsWith(base.resolve("standby-1").toString()));

        long t = System.nanoTime();
        ScaleReport out = scaler.scaleTo(plan); // the reviewed plan
        System.out.printf("scale 0 -> 3: %d ms (%d operations)%n", (System.nanoTime() - t) / 1_000_000,
                out.operations().size());
        assertEquals(3, out.operations().size());
        assertEquals(Set.of("manual1", "standby-1", "standby-2", "standby-3"), followers());
        scaler.status().nodes().forEach(n -> assertTrue(n.healthy(), n.toString()));
        assertTrue(scaler.planScale(ScaleTarget.count(3, policy)).isEmpty(), "a second reconcile has nothing to do");
        assertEquals(0, scaler.scaleTo(ScaleTarget.count(3, policy)).operations().size());

        t = System.nanoTime();
        ScaleReport in = scaler.scaleTo(ScaleTarget.count(1, policy));
        System.out.printf("scale 3 -> 1: %d ms%n", (System.nanoTime() - t) / 1_000_000);
        assertEquals(List.of("standby-3", "standby-2"), in.plan().changes().stream().map(ScalePlan.Change::node)
                .toList(), "all healthy: the highest numbers go first");
        assertEquals(Set.of("manual1", "standby-1"), followers(), "the hand-added node is never removed");
        for (String gone : List.of("standby-2", "standby-3")) {
            assertTrue(scaler.slots().get(SlotName.forNode(gone)).isEmpty(), gone + ": slot dropped");
            assertFalse(Files.exists(base.resolve(gone)), gone + ": data deleted (the policy made it)");
        }
        assertTrue(scaler.scaleTo(ScaleTarget.count(0, policy).withRemoveOptions(RemoveOptions.defaults()
                .withDeleteData(true))).plan().changes().stream().noneMatch(c -> c.node().equals("manual1")));
        assertEquals(Set.of("manual1"), followers());

        // the history of all that, newest first
        List<ScaleEvent> events = scaler.events(EventQuery.latest(1000).since(t0));
        events.stream().filter(ScaleEvent::isOperation).limit(8).forEach(System.out::println);
        for (int i = 1; i < events.size(); i++) {
            assertFalse(events.get(i).at().isAfter(events.get(i - 1).at()), "newest first");
        }
        String me = java.lang.management.ManagementFactory.getRuntimeMXBean().getName();
        assertTrue(events.stream().allMatch(e -> e.who().equals(me)), "who: this process");
        for (String n : List.of("standby-1", "standby-2", "standby-3")) {
            assertEquals(1, count(events, "addStandby", n, null, ScaleEvent.Outcome.STARTED), n);
            assertEquals(1, count(events, "addStandby", n, null, ScaleEvent.Outcome.DONE), n);
            ScaleEvent backup = events.stream().filter(e -> e.node().equals(n) && e.step().equals(
                    java.util.Optional.of("base backup"))).findFirst().orElseThrow();
            assertTrue(backup.duration().orElseThrow().toNanos() > 0, backup.toString());
        }
        for (String n : List.of("standby-2", "standby-3")) {
            assertEquals(1, count(events, "removeNode", n, null, ScaleEvent.Outcome.DONE), n);
            assertEquals(1, count(events, "removeNode", n, "drop slot", ScaleEvent.Outcome.DONE), n);
        }
        assertEquals(4, count(events, "scaleTo", "primary", null, ScaleEvent.Outcome.DONE), "4 reconciles");
        List<ScaleEvent> ofOne = scaler.events(EventQuery.latest(100).since(t0).node("standby-2"));
        assertTrue(ofOne.stream().allMatch(e -> e.node().equals("standby-2")) && ofOne.size() > 20, ofOne.toString());
        assertEquals(3, scaler.events(EventQuery.latest(3).operation("scaleTo")).size(), "limit");
        assertTrue(scaler.events(EventQuery.latest(1000)).stream().anyMatch(e -> e.operation().equals("deployPrimary")
                && e.step().equals(java.util.Optional.of("initdb"))), "even the deploy's steps (written at its end)");
    }

    private static long count(List<ScaleEvent> events, String op, String node, String step, ScaleEvent.Outcome o) {
        return events.stream().filter(e -> e.operation().equals(op) && e.node().equals(node)
                && e.step().equals(java.util.Optional.ofNullable(step)) && e.outcome() == o).count();
    }

    @Test
    @Order(2)
    void aFailureIsRecordedWithItsReasonAndTheUndoneSteps() throws IOException {
        Instant t0 = Instant.now();
        try (ServerSocket taken = new ServerSocket(0)) {
            NodeSpec clash = NodeSpec.builder().name("clash").port(taken.getLocalPort())
                    .dataDirectory(base.resolve("clash")).build();
            PolarException e = assertThrows(PolarException.class, () -> scaler.addStandby(clash));
            assertEquals(PolarException.Reason.PORT_IN_USE, e.reason());
        }
        // a step failing after changes: what was done is undone, each undo recorded
        ClusterSpec failing = spec.toBuilder().listener(new ScaleListener() {
            @Override
            public void stepStarted(String operation, String step) {
                if (step.equals("verify recovery")) {
                    throw new IllegalStateException("injected before verify recovery");
                }
            }
        }).build();
        try (ClusterScaler s = ClusterScaler.forCluster(failing)) {
            assertThrows(IllegalStateException.class, () -> s.addStandby(manual("doomed")));
        }
        List<ScaleEvent> events = scaler.events(EventQuery.latest(200).since(t0));
        events.forEach(System.out::println);
        ScaleEvent refused = events.stream().filter(e -> e.node().equals("clash") && e.isOperation()
                && e.outcome() == ScaleEvent.Outcome.FAILED).findFirst().orElseThrow();
        assertEquals("PORT_IN_USE", refused.reason().orElseThrow());
        assertTrue(refused.message().orElseThrow().contains("already in use"), refused.toString());
        assertEquals(1, count(events, "addStandby", "clash", "check", ScaleEvent.Outcome.FAILED));
        ScaleEvent doomed = events.stream().filter(e -> e.node().equals("doomed") && e.isOperation()
                && e.outcome() == ScaleEvent.Outcome.FAILED).findFirst().orElseThrow();
        assertEquals("IllegalStateException", doomed.reason().orElseThrow());
        assertEquals(0, count(events, "addStandby", "doomed", "verify recovery", ScaleEvent.Outcome.FAILED) - 1,
                "the step the listener failed");
        for (String undone : List.of("create slot", "allow replication", "base backup", "start")) {
            assertEquals(1, count(events, "addStandby", "doomed", undone, ScaleEvent.Outcome.UNDONE), undone);
        }
        assertFalse(Files.exists(base.resolve("doomed")));
    }

    @Test
    @Order(3)
    void anotherScalerChangingTheMembershipStopsTheReconcileBeforeItsChange() {
        // scale to 2 from {manual1}: +standby-1, +standby-2; another scaler adds manual2 just before
        // the second change takes its lock
        AtomicBoolean intervened = new AtomicBoolean();
        try (ClusterScaler other = ClusterScaler.forCluster(spec)) {
            ClusterSpec watched = spec.toBuilder().listener(new ScaleListener() {
                @Override
                public void stepStarted(String operation, String step) {
                    if (operation.equals("addStandby standby-2") && step.equals("lock")
                            && intervened.compareAndSet(false, true)) {
                        other.addStandby(manual("manual2"));
                    }
                }
            }).build();
            try (ClusterScaler s = ClusterScaler.forCluster(watched)) {
                PolarException e = assertThrows(PolarException.class, () -> s.scaleTo(ScaleTarget.count(2, policy)));
                System.out.println(e.getMessage());
                assertEquals(PolarException.Reason.MEMBERSHIP_CHANGED, e.reason());
                assertTrue(e.getMessage().contains("manual2"), e.getMessage());
            }
        }
        assertTrue(intervened.get());
        assertEquals(Set.of("manual1", "manual2", "standby-1"), followers(), "standby-2 was never made");
        assertTrue(scaler.slots().get(SlotName.of("standby_2")).isEmpty());
        assertFalse(Files.exists(base.resolve("standby-2")));

        // a reviewed plan that no longer fits: nothing is changed
        ScalePlan reviewed = scaler.planScale(ScaleTarget.count(2, policy));
        assertEquals(List.of("standby-2"), reviewed.changes().stream().map(ScalePlan.Change::node).toList());
        scaler.addStandby(NodeSpec.builder().name("standby-2").port(Procs.freePort())
                .dataDirectory(base.resolve("standby-2")).build()); // by hand, elsewhere
        PolarException e = assertThrows(PolarException.class, () -> scaler.scaleTo(reviewed));
        assertEquals(PolarException.Reason.MEMBERSHIP_CHANGED, e.reason());
        assertEquals(Set.of("manual1", "manual2", "standby-1", "standby-2"), followers());
        assertTrue(scaler.planScale(ScaleTarget.count(2, policy)).isEmpty(), "a hand-made standby-2 counts");
    }

    @Test
    @Order(4)
    void anExplicitListGovernsEveryFollower() {
        NodeSpec manual1 = NodeSpec.builder().name("manual1").port(scaler.status().node("manual1").orElseThrow()
                .port()).dataDirectory(base.resolve("manual1")).build();
        NodeSpec moved = NodeSpec.builder().name("manual1").port(manual1.port().value() == 65535 ? 65534
                : manual1.port().value() + 1).dataDirectory(base.resolve("manual1")).build();
        PolarException e = assertThrows(PolarException.class,
                () -> scaler.planScale(ScaleTarget.nodes(List.of(moved))));
        assertEquals(PolarException.Reason.NODE_EXISTS, e.reason(), "never replaced silently");

        NodeSpec reader = manual("reader-1");
        ScaleTarget exactly = ScaleTarget.nodes(List.of(manual1, reader))
                .withRemoveOptions(RemoveOptions.defaults().withDeleteData(true));
        ScaleReport r = scaler.scaleTo(exactly);
        System.out.print(r.plan().summary());
        List<ScalePlan.Change> changes = r.plan().changes();
        assertEquals(ScalePlan.Change.Action.ADD_STANDBY, changes.get(changes.size() - 1).action(),
                "removals first, then adds");
        assertEquals(Set.of("manual1", "reader-1"), followers());
        assertThrows(IllegalArgumentException.class, () -> scaler.planScale(ScaleTarget.nodes(List.of(
                NodeSpec.builder().name("x").host("10.9.9.9").port(5432).dataDirectory(base.resolve("x")).build()))),
                "a host the spec does not know");
        assertInstanceOf(ScaleReport.class, scaler.scaleTo(ScaleTarget.nodes(List.of())
                .withRemoveOptions(RemoveOptions.defaults().withDeleteData(true))));
        assertEquals(Set.of(), followers());
    }

    @Test
    @Order(5)
    void aClusterWhoseSchemaPredatesTheHistoryGetsItAtItsNextOperation() throws Exception {
        try (java.sql.Connection c = scaler.primaryNode().connect(); java.sql.Statement st = c.createStatement()) {
            st.execute("DROP TABLE polarscale.events");
        }
        PolarException e = assertThrows(PolarException.class, () -> scaler.events(EventQuery.latest(10)));
        assertTrue(e.getMessage().contains("no event history"), e.getMessage());
        scaler.addStandby(manual("late"));
        List<ScaleEvent> events = scaler.events(EventQuery.latest(100));
        assertEquals(1, count(events, "addStandby", "late", null, ScaleEvent.Outcome.STARTED),
                "the events before the table existed were kept and written once it did");
        assertEquals(1, count(events, "addStandby", "late", "lock", ScaleEvent.Outcome.DONE));
        assertEquals(1, count(events, "addStandby", "late", null, ScaleEvent.Outcome.DONE));
    }
}
