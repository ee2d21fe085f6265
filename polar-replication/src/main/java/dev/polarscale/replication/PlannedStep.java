package dev.polarscale.replication;

import java.util.List;
import java.util.Objects;

/**
 * One step of a scaling operation as {@link ClusterScaler#planStandby} / {@code planReplica}
 * show it before anything runs: where it runs and the exact commands and SQL, secrets masked.
 *
 * @param name    a short step name, e.g. {@code "create slot"}
 * @param host    the host the step acts on
 * @param actions the commands (shell-like rendering of the argument list) and SQL statements
 */
public record PlannedStep(String name, String host, List<String> actions) {
    public PlannedStep {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(host, "host");
        actions = List.copyOf(actions);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(name).append(" @ ").append(host);
        for (String a : actions) {
            sb.append("\n    ").append(a);
        }
        return sb.toString();
    }
}
