package dev.polarscale.replication;

import java.util.List;
import java.util.Objects;

/**
 * What {@link ClusterScaler#scaleTo} would do, as {@link ClusterScaler#planScale} computes it from
 * the membership and the operation journal on the primary; nothing runs. First the interrupted
 * operations that the first change's recovery finishes or undoes, then each add or removal in
 * order, each with the exact steps of its own operation (the same lists as
 * {@code planStandby} / {@code planReplica} / {@code planRemove}).
 *
 * <pre>{@code
 * ScalePlan plan = scaler.planScale(ScaleTarget.count(3, policy));
 * System.out.print(plan.summary());        // one line per change
 * System.out.print(plan);                  // and every step of each
 * if (!plan.isEmpty()) scaler.scaleTo(plan);   // applies this plan, or stops if the cluster changed
 * }</pre>
 *
 * @param target     what was asked for
 * @param recoveries the interrupted operations found in the journal, and what recovery does to each
 * @param changes    the adds and removals, in the order they run
 */
public record ScalePlan(ScaleTarget target, List<String> recoveries, List<Change> changes) {
    public ScalePlan {
        Objects.requireNonNull(target, "target");
        recoveries = List.copyOf(recoveries);
        changes = List.copyOf(changes);
    }

    /**
     * One add or removal.
     *
     * @param action what it does
     * @param node   the node's name
     * @param where  {@code host:port directory}
     * @param steps  the steps of its operation, with the exact commands and SQL
     */
    public record Change(Action action, String node, String where, List<PlannedStep> steps) {
        /** The operation a change runs. */
        public enum Action {
            ADD_STANDBY("addStandby"), ADD_REPLICA("addReplica"), REMOVE("removeNode");

            private final String operation;

            Action(String operation) {
                this.operation = operation;
            }

            /** The operation's name, as events and reports call it. */
            public String operation() {
                return operation;
            }
        }

        public Change {
            Objects.requireNonNull(action, "action");
            Objects.requireNonNull(node, "node");
            Objects.requireNonNull(where, "where");
            steps = List.copyOf(steps);
        }

        /** {@code + standby-2  addStandby  127.0.0.1:5435 /srv/polar/standby-2}. */
        public String summary() {
            return (action == Action.REMOVE ? "- " : "+ ") + node + "  " + action.operation() + "  " + where;
        }

        /** Whether {@code other} makes the same change (same action, node, host, port and directory). */
        public boolean sameAs(Change other) {
            return action == other.action && node.equals(other.node) && where.equals(other.where);
        }
    }

    /** Whether there is nothing to do: no change and no interrupted operation. */
    public boolean isEmpty() {
        return changes.isEmpty() && recoveries.isEmpty();
    }

    /** The target, then one line per recovery and per change. */
    public String summary() {
        StringBuilder sb = new StringBuilder("scale to ").append(target).append(": ");
        sb.append(isEmpty() ? "nothing to do" : changes.size() + " change(s)").append('\n');
        recoveries.forEach(r -> sb.append("  recover: ").append(r).append('\n'));
        changes.forEach(c -> sb.append("  ").append(c.summary()).append('\n'));
        return sb.toString();
    }

    /** The summary, then every step of every change. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(summary());
        for (Change c : changes) {
            sb.append('\n').append(c.summary()).append('\n');
            c.steps().forEach(s -> sb.append("  ").append(s.toString().replace("\n", "\n  ")).append('\n'));
        }
        return sb.toString();
    }
}
