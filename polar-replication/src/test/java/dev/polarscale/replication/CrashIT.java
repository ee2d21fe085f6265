package dev.polarscale.replication;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JVM that runs an operation dies (Runtime.halt: no finally, no rollback, no shutdown hook)
 * right after each step of addStandby and of removeNode. Afterwards a new scaler's retry of the
 * same operation succeeds, {@code removeNode} of that name cleans up whatever the add left, and
 * nothing is orphaned: no server, slot, directory, registry or journal row.
 */
class CrashIT {
    static final List<String> ADD_STEPS = FaultIT.ADD_STANDBY_STEPS;
    static final List<String> REMOVE_STEPS = List.of("lock", "recover", "check", "stop", "await slot inactive",
            "drop slot", "unregister", "revoke replication", "delete data");
    /** Before these, an add has changed nothing: there is nothing for removeNode to find. */
    private static final List<String> NO_CHANGE_YET = List.of("lock", "recover", "check");

    private static CrashRig rig;

    @BeforeAll
    static void deploy() throws Exception {
        rig = new CrashRig("polarscale-crash-it-", (b, base) -> b, List.of());
    }

    @AfterAll
    static void tearDown() {
        if (rig != null) {
            rig.close();
        }
    }

    static Stream<String> addSteps() {
        return ADD_STEPS.stream();
    }

    static Stream<String> removeSteps() {
        return REMOVE_STEPS.stream();
    }

    private static String id(List<String> steps, String step) {
        return Integer.toString(steps.indexOf(step));
    }

    @ParameterizedTest(name = "addStandby halted after {0}, then the same add")
    @MethodSource("addSteps")
    void aRetryOfTheAddSucceeds(String step) throws Exception {
        NodeSpec node = rig.node("crash_retry_" + id(ADD_STEPS, step));
        String out = rig.crash("addStandby", node, step);
        System.out.printf("addStandby halted after %s: %s%n", step, out.lines().filter(l -> l.startsWith("HALT"))
                .findFirst().orElse("?"));
        OperationReport r = rig.scaler.addStandby(node);
        rig.assertHealthy(node.name());
        assertEquals(List.of(), rig.scaler.slots().inactiveRetainingMoreThan(0), "no idle slot anywhere");
        System.out.printf("  retry succeeded in %d ms%n", r.total().toMillis());
        rig.scaler.removeNode(node.name(), RemoveOptions.defaults().withDeleteData(true));
        rig.assertNothingLeft(node);
    }

    @ParameterizedTest(name = "addStandby halted after {0}, then removeNode")
    @MethodSource("addSteps")
    void removeNodeCleansWhatTheAddLeft(String step) throws Exception {
        NodeSpec node = rig.node("crash_rm_" + id(ADD_STEPS, step));
        rig.crash("addStandby", node, step);
        if (NO_CHANGE_YET.contains(step)) {
            RuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                    () -> rig.scaler.removeNode(node.name(), RemoveOptions.defaults().withDeleteData(true)));
            assertTrue(CrashRig.notFound(e), "nothing to remove: " + e);
        } else {
            OperationReport r = rig.scaler.removeNode(node.name(), RemoveOptions.defaults().withDeleteData(true));
            System.out.printf("addStandby halted after %s; removeNode cleaned it in %d ms%n", step,
                    r.total().toMillis());
        }
        rig.assertNothingLeft(node);
    }

    @ParameterizedTest(name = "removeNode halted after {0}, then removeNode again")
    @MethodSource("removeSteps")
    void anInterruptedRemovalIsFinished(String step) throws Exception {
        NodeSpec node = rig.node("crash_del_" + id(REMOVE_STEPS, step));
        rig.scaler.addStandby(node);
        rig.crash("removeNode", node, step);
        boolean unregisteredByTheCrashedRun = IntStream.range(0, REMOVE_STEPS.size())
                .anyMatch(i -> REMOVE_STEPS.get(i).equals("unregister") && i <= REMOVE_STEPS.indexOf(step));
        OperationReport r = rig.scaler.removeNode(node.name(), RemoveOptions.defaults().withDeleteData(true));
        System.out.printf("removeNode halted after %s (unregistered: %s); the second removal took %d ms%n", step,
                unregisteredByTheCrashedRun, r.total().toMillis());
        rig.assertNothingLeft(node);
    }
}
