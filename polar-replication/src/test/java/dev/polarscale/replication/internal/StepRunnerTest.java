package dev.polarscale.replication.internal;

import dev.polarscale.replication.ScaleListener;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepRunnerTest {

    @Test
    void undoesCompletedStepsNewestFirst() {
        List<String> undone = new ArrayList<>();
        StepRunner run = new StepRunner("n1", "op", ScaleListener.NONE);
        run.step("a", () -> { }, () -> undone.add("a"));
        run.step("b", () -> { }, null);
        run.step("c", () -> { }, () -> undone.add("c"));
        assertThrows(IllegalStateException.class, () -> run.step("d", () -> {
            throw new IllegalStateException("boom");
        }, () -> undone.add("d")));
        assertTrue(run.rollback().isEmpty());
        assertEquals(List.of("c", "a"), undone, "a failed plain step is not undone");
    }

    @Test
    void aHalfDoneStepIsUndoneToo() {
        List<String> undone = new ArrayList<>();
        StepRunner run = new StepRunner("n1", "op", ScaleListener.NONE);
        run.step("slot", () -> { }, () -> undone.add("slot"));
        // e.g. the directory was made, then the copy into it failed
        assertThrows(IllegalStateException.class, () -> run.stepUndoingPartial("base backup", () -> {
            throw new IllegalStateException("copy failed");
        }, () -> undone.add("base backup")));
        run.rollback();
        assertEquals(List.of("base backup", "slot"), undone);
    }

    @Test
    void aListenerThatFailsTheStepStillGetsTheHalfDoneStepUndone() {
        List<String> undone = new ArrayList<>();
        StepRunner run = new StepRunner("n1", "op", new ScaleListener() {
            @Override
            public void stepStarted(String operation, String step) {
                throw new IllegalStateException("injected at " + step);
            }
        });
        assertThrows(IllegalStateException.class, () -> run.stepUndoingPartial("start", () -> { },
                () -> undone.add("start")));
        run.rollback();
        assertEquals(List.of("start"), undone);
    }

    @Test
    void commitForgetsEveryUndo() {
        List<String> undone = new ArrayList<>();
        StepRunner run = new StepRunner("n1", "op", ScaleListener.NONE);
        run.stepUndoingPartial("start", () -> { }, () -> undone.add("start"));
        run.commit();
        run.rollback();
        assertTrue(undone.isEmpty());
    }
}
