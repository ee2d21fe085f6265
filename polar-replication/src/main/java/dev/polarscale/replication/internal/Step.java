package dev.polarscale.replication.internal;

import dev.polarscale.replication.PlannedStep;

import java.util.List;
import java.util.Objects;

/**
 * One step of an operation, as data: its name, the host it acts on, the exact commands and SQL
 * it runs (secrets masked), what it does and how it is undone. The same object is shown by a
 * plan and executed by a run, so the two cannot drift apart.
 *
 * @param name          short name, e.g. {@code "create slot"}
 * @param host          the host it acts on
 * @param actions       the commands and SQL it runs, rendered for people, secrets masked
 * @param action        what it does
 * @param undo          how it is undone, or {@code null} when there is nothing to undo
 * @param undoesPartial whether the undo also cleans up after the step when the step itself failed
 *                      half-way (a directory made before the copy into it failed): then it must be
 *                      harmless when the step did nothing
 */
public record Step(String name, String host, List<String> actions, Runnable action, Undo undo,
                   boolean undoesPartial) {

    /** Something that undoes a step. */
    @FunctionalInterface
    public interface Undo {
        void run() throws Exception;
    }

    public Step {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(host, "host");
        actions = List.copyOf(actions);
        Objects.requireNonNull(action, "action");
        if (undoesPartial) {
            Objects.requireNonNull(undo, "undo");
        }
    }

    /** A step without undo. */
    public static Step of(String name, String host, List<String> actions, Runnable action) {
        return new Step(name, host, actions, action, null, false);
    }

    /** This step, undone by {@code undo} once it has succeeded. */
    public Step undoneBy(Undo undo) {
        return new Step(name, host, actions, action, Objects.requireNonNull(undo, "undo"), false);
    }

    /** This step, undone by {@code undo} even when it failed half-way (see {@link #undoesPartial}). */
    public Step undoneEvenIfHalfDone(Undo undo) {
        return new Step(name, host, actions, action, Objects.requireNonNull(undo, "undo"), true);
    }

    public PlannedStep planned() {
        return new PlannedStep(name, host, actions);
    }
}
