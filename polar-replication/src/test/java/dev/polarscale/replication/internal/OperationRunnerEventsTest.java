package dev.polarscale.replication.internal;

import dev.polarscale.core.PolarException;
import dev.polarscale.replication.ReplicationException;
import dev.polarscale.replication.ScaleEvent;
import dev.polarscale.replication.ScaleListener;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;
import org.mockito.InOrder;

import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyList;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/** The decision logic of recording events: what is recorded, in which order, on which session, and never failing. */
class OperationRunnerEventsTest {
    private final List<ScaleEvent> published = new ArrayList<>();
    private final EventLog events = mock(EventLog.class);
    private final Connection session = mock(Connection.class);
    private final ClusterLock lock = mock(ClusterLock.class);

    OperationRunnerEventsTest() {
        doAnswer(i -> published.add(i.getArgument(0))).when(events).publish(any());
        when(lock.connection()).thenReturn(session);
    }

    private static Step step(String name) {
        return Step.of(name, "h", List.of(), () -> { });
    }

    private static String render(ScaleEvent e) {
        return e.step().map(s -> s + " ").orElse("op ") + e.outcome() + e.reason().map(r -> " " + r).orElse("");
    }

    @Test
    void aFailedOperationRecordsEachStepItsFailureTheUndosAndItsEnd() {
        Operation.LockSlot slot = new Operation.LockSlot();
        Operation op = new Operation(Operation.Kind.ADD_STANDBY, "n1", List.of(
                Step.of("lock", "h", List.of(), () -> slot.hold(lock)), step("create slot").undoneBy(() -> { }),
                Step.of("verify", "h", List.of(), () -> {
                    throw new ReplicationException(PolarException.Reason.NOT_STREAMING, "n1", "late");
                })), null, null, false, () -> Duration.ZERO, slot);
        when(events.write(eq(session), anyList())).thenReturn(true);
        assertThrows(ReplicationException.class, () -> new OperationRunner(mock(Journal.class), ScaleListener.NONE,
                events).run(op));
        assertEquals(List.of("op STARTED", "lock DONE", "create slot DONE", "verify FAILED NOT_STREAMING",
                "create slot UNDONE", "op FAILED NOT_STREAMING"), published.stream().map(OperationRunnerEventsTest::render)
                .toList());
        assertTrue(published.stream().allMatch(e -> e.operation().equals("addStandby") && e.node().equals("n1")
                && e.operationId().equals(published.get(0).operationId())), "one operation, one id");
        assertEquals("late", published.get(5).message().orElseThrow());
        assertTrue(published.get(5).duration().isPresent() && published.get(0).duration().isEmpty());
    }

    @Test
    void eventsWaitForTheLockAndAreWrittenOnItsSessionThenTrimmed() {
        Operation.LockSlot slot = new Operation.LockSlot();
        Operation op = new Operation(Operation.Kind.REMOVE_NODE, "n1", List.of(step("plan"),
                Step.of("lock", "h", List.of(), () -> slot.hold(lock)), step("stop")), null, null, false,
                () -> Duration.ZERO, slot);
        when(events.write(eq(session), anyList())).thenReturn(true);
        new OperationRunner(mock(Journal.class), ScaleListener.NONE, events).run(op);
        @SuppressWarnings("unchecked")
        ArgumentCaptor<List<ScaleEvent>> batches = ArgumentCaptor.forClass(List.class);
        InOrder order = inOrder(events, lock);
        order.verify(events, times(3)).write(eq(session), batches.capture());
        order.verify(events).trim(session);
        order.verify(lock).close();
        assertEquals(List.of(List.of("op STARTED", "plan DONE", "lock DONE"), List.of("stop DONE"),
                List.of("op DONE")), batches.getAllValues().stream().map(b -> b.stream()
                .map(OperationRunnerEventsTest::render).toList()).toList());
        verify(events, never()).writeFresh(anyList());
    }

    @Test
    void aFailedWriteKeepsTheEventsForTheNextOneAndNeverFailsTheOperation() {
        Operation.LockSlot slot = new Operation.LockSlot();
        Operation op = new Operation(Operation.Kind.ADOPT, "p", List.of(Step.of("lock", "h", List.of(),
                () -> slot.hold(lock)), step("registry"), step("report")), null, null, false, () -> Duration.ZERO, slot);
        // no table until "registry" has run; then a write throws; then all is well
        when(events.write(eq(session), anyList())).thenReturn(false, true)
                .thenThrow(new IllegalStateException("broken")).thenReturn(true);
        new OperationRunner(mock(Journal.class), ScaleListener.NONE, events).run(op);
        @SuppressWarnings("unchecked")
        ArgumentCaptor<List<ScaleEvent>> batches = ArgumentCaptor.forClass(List.class);
        verify(events, times(4)).write(eq(session), batches.capture());
        List<List<String>> b = batches.getAllValues().stream().map(l -> l.stream()
                .map(OperationRunnerEventsTest::render).toList()).toList();
        assertEquals(List.of(List.of("op STARTED", "lock DONE"), List.of("op STARTED", "lock DONE", "registry DONE"),
                List.of("report DONE"), List.of("report DONE", "op DONE")), b);
    }

    @Test
    void anOperationThatNeverHeldTheLockWritesItsEventsOnANewConnectionAtTheEnd() {
        Operation op = new Operation(Operation.Kind.DEPLOY_PRIMARY, "p", List.of(step("initdb"), step("start")), null,
                null, false, () -> Duration.ZERO, new Operation.LockSlot());
        when(events.writeFresh(anyList())).thenReturn(true);
        new OperationRunner(mock(Journal.class), ScaleListener.NONE, events).run(op);
        @SuppressWarnings("unchecked")
        ArgumentCaptor<List<ScaleEvent>> all = ArgumentCaptor.forClass(List.class);
        verify(events).writeFresh(all.capture());
        assertEquals(List.of("op STARTED", "initdb DONE", "start DONE", "op DONE"), all.getValue().stream()
                .map(OperationRunnerEventsTest::render).toList());
        verify(events, never()).write(any(), anyList());
        verify(events, never()).trim(any());
    }

    @Test
    void aRunnerWithoutHistoryRecordsNothing() {
        Operation op = new Operation(Operation.Kind.DEPLOY_PRIMARY, "p", List.of(step("initdb")), null, null, false,
                () -> Duration.ZERO, new Operation.LockSlot());
        new OperationRunner(mock(Journal.class), ScaleListener.NONE).run(op);
        assertTrue(published.isEmpty());
    }
}
