package dev.polarscale.replication.internal;

import dev.polarscale.core.PolarException;
import dev.polarscale.replication.OperationReport;
import dev.polarscale.replication.ReplicationException;
import dev.polarscale.replication.ScaleListener;
import org.junit.jupiter.api.Test;
import org.mockito.InOrder;

import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/** The decision logic of running steps: order, undo, keep, journal writes, listener calls. */
class OperationRunnerTest {
    private final List<String> log = new ArrayList<>();

    private Step step(String name) {
        return Step.of(name, "h", List.of(), () -> log.add("do " + name));
    }

    private Step failing(String name, RuntimeException e) {
        return Step.of(name, "h", List.of(), () -> {
            log.add("do " + name);
            throw e;
        });
    }

    private Step.Undo undo(String name) {
        return () -> log.add("undo " + name);
    }

    private static Operation op(List<Step> steps, boolean keep) {
        return new Operation(Operation.Kind.ADD_STANDBY, "n1", steps, null, null, keep, () -> Duration.ZERO,
                new Operation.LockSlot());
    }

    private static OperationRunner runner(ScaleListener listener) {
        return new OperationRunner(mock(Journal.class), listener);
    }

    @Test
    void undoesCompletedStepsNewestFirstButNotTheFailedPlainOne() {
        Operation op = op(List.of(step("a").undoneBy(undo("a")), step("b"), step("c").undoneBy(undo("c")),
                failing("d", new IllegalStateException("boom")).undoneBy(undo("d"))), false);
        assertThrows(IllegalStateException.class, () -> runner(ScaleListener.NONE).run(op));
        assertEquals(List.of("do a", "do b", "do c", "do d", "undo c", "undo a"), log);
    }

    @Test
    void aHalfDoneStepIsUndoneToo() {
        Operation op = op(List.of(step("slot").undoneBy(undo("slot")),
                failing("base backup", new IllegalStateException("copy failed")).undoneEvenIfHalfDone(
                        undo("base backup"))), false);
        assertThrows(IllegalStateException.class, () -> runner(ScaleListener.NONE).run(op));
        assertEquals(List.of("do slot", "do base backup", "undo base backup", "undo slot"), log);
    }

    @Test
    void aListenerThatFailsTheStepStillGetsTheHalfDoneStepUndone() {
        ScaleListener listener = mock(ScaleListener.class);
        doThrow(new IllegalStateException("injected")).when(listener).stepStarted(anyString(), eq("start"));
        Operation op = op(List.of(step("slot").undoneBy(undo("slot")),
                step("start").undoneEvenIfHalfDone(undo("start"))), false);
        assertThrows(IllegalStateException.class, () -> runner(listener).run(op));
        assertEquals(List.of("do slot", "undo start", "undo slot"), log, "the action never ran; both undone");
    }

    @Test
    void theListenerHearsEveryStepInOrder() {
        ScaleListener listener = mock(ScaleListener.class);
        ReplicationException boom = new ReplicationException(PolarException.Reason.NOT_STREAMING, "n1", "late");
        Operation op = op(List.of(step("a").undoneBy(undo("a")), failing("b", boom)), false);
        assertSame(boom, assertThrows(ReplicationException.class, () -> runner(listener).run(op)));
        InOrder order = inOrder(listener);
        order.verify(listener).stepStarted("addStandby n1", "a");
        order.verify(listener).stepFinished(eq("addStandby n1"), eq("a"), any(Duration.class));
        order.verify(listener).stepStarted("addStandby n1", "b");
        order.verify(listener).stepFailed("addStandby n1", "b", boom);
        order.verify(listener).stepUndone("addStandby n1", "a");
        order.verifyNoMoreInteractions();
    }

    @Test
    void anExecutorFailingAtStepNUndoesTheStepsBeforeIt() {
        for (int n = 0; n < 4; n++) {
            log.clear();
            List<Step> steps = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Step s = i == n ? failing("s" + i, new ReplicationException(PolarException.Reason.COMMAND_FAILED,
                        "n1", "exit 1")) : step("s" + i);
                steps.add(s.undoneBy(undo("s" + i)));
            }
            assertThrows(ReplicationException.class, () -> runner(ScaleListener.NONE).run(op(steps, false)));
            List<String> undone = log.stream().filter(l -> l.startsWith("undo")).toList();
            List<String> expected = new ArrayList<>();
            for (int i = n - 1; i >= 0; i--) {
                expected.add("undo s" + i);
            }
            assertEquals(expected, undone, "failing at step " + n);
        }
    }

    @Test
    void theSameFailureGetsTheSameTypeWhetherKeptOrUndone() {
        RuntimeException raw = new UnsupportedOperationException("no such thing");
        RuntimeException undone = assertThrows(RuntimeException.class, () -> runner(ScaleListener.NONE)
                .run(op(List.of(step("a").undoneBy(undo("a")), failing("b", raw)), false)));
        RuntimeException kept = assertThrows(RuntimeException.class, () -> runner(ScaleListener.NONE)
                .run(op(List.of(step("a").undoneBy(undo("a")), failing("b", raw)), true)));
        assertInstanceOf(ReplicationException.class, undone);
        assertEquals(undone.getClass(), kept.getClass());
        assertEquals(PolarException.Reason.OTHER, ((PolarException) kept).reason());
        assertSame(raw, kept.getCause());
        assertEquals(1, log.stream().filter(l -> l.equals("undo a")).count(), "undone once, kept once");
    }

    @Test
    void anUndoThatFailsIsSuppressedAndTheOthersStillRun() {
        Operation op = op(List.of(step("a").undoneBy(undo("a")), step("b").undoneBy(() -> {
            throw new IllegalStateException("stuck");
        }), failing("c", new IllegalStateException("boom"))), false);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> runner(ScaleListener.NONE).run(op));
        assertEquals("boom", e.getMessage());
        assertEquals("stuck", e.getSuppressed()[0].getMessage());
        assertTrue(log.contains("undo a"));
    }

    @Test
    void theJournalRowSpansTheChangesAndRecordsEachUndoableStepBeforeItRuns() {
        Journal journal = mock(Journal.class);
        Connection session = mock(Connection.class);
        ClusterLock lock = mock(ClusterLock.class);
        when(lock.connection()).thenReturn(session);
        Journal.Entry entry = Journal.Entry.of(Operation.Kind.ADD_STANDBY, "n1", "h", 5433, "/d/n1",
                OptionalInt.empty(), false, false, Optional.empty());
        when(journal.begin(session, entry)).thenReturn("id1");
        Operation.LockSlot slot = new Operation.LockSlot();
        Operation op = new Operation(Operation.Kind.ADD_STANDBY, "n1", List.of(
                Step.of("lock", "h", List.of(), () -> slot.hold(lock)), step("check"),
                step("create slot").undoneBy(undo("create slot")), step("verify"),
                step("register").undoneBy(undo("register"))), () -> entry, "create slot", false,
                () -> Duration.ZERO, slot);
        OperationReport r = new OperationRunner(journal, ScaleListener.NONE).run(op);
        assertEquals(List.of("lock", "check", "create slot", "verify", "register"),
                r.steps().stream().map(OperationReport.StepTiming::step).toList());
        InOrder order = inOrder(journal, lock);
        order.verify(journal).begin(session, entry);
        order.verify(journal).progress(session, "id1", List.of("lock", "check"), "create slot");
        order.verify(journal).progress(session, "id1", List.of("lock", "check", "create slot", "verify"), "register");
        order.verify(journal).finish(session, "id1");
        order.verify(lock).close();
    }

    @Test
    void aRefusalBeforeTheFirstChangeWritesNoJournalRow() {
        Journal journal = mock(Journal.class);
        Operation op = new Operation(Operation.Kind.ADD_STANDBY, "n1", List.of(
                failing("check", new ReplicationException(PolarException.Reason.PORT_IN_USE, "n1", "taken")),
                step("create slot").undoneBy(undo("create slot"))), () -> {
                    throw new AssertionError("no journal entry may be asked for");
                }, "create slot", false, () -> Duration.ZERO, new Operation.LockSlot());
        assertThrows(ReplicationException.class, () -> new OperationRunner(journal, ScaleListener.NONE).run(op));
        verify(journal, never()).begin(any(), any());
    }

    @Test
    void aKeptFailureMarksTheRowKeptInsteadOfDeletingIt() {
        Journal journal = mock(Journal.class);
        Connection session = mock(Connection.class);
        ClusterLock lock = mock(ClusterLock.class);
        when(lock.connection()).thenReturn(session);
        when(journal.begin(any(), any())).thenReturn("id2");
        Operation.LockSlot slot = new Operation.LockSlot();
        Operation op = new Operation(Operation.Kind.ADD_STANDBY, "n1", List.of(
                Step.of("lock", "h", List.of(), () -> slot.hold(lock)),
                step("create slot").undoneBy(undo("create slot")),
                failing("verify", new ReplicationException(PolarException.Reason.NOT_STREAMING, "n1", "late"))),
                () -> Journal.Entry.of(Operation.Kind.ADD_STANDBY, "n1", "h", 1, "/d", OptionalInt.empty(), false, false,
                        Optional.empty()), "create slot", true, () -> Duration.ZERO, slot);
        assertThrows(ReplicationException.class, () -> new OperationRunner(journal, ScaleListener.NONE).run(op));
        verify(journal).keep(session, "id2", "late");
        verify(journal, never()).finish(any(), any());
        assertEquals(List.of("do create slot", "do verify"), log, "nothing undone");
    }
}
