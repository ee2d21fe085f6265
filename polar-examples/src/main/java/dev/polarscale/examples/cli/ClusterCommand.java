package dev.polarscale.examples.cli;

import dev.polarscale.replication.ClusterScaler;
import dev.polarscale.replication.PlannedStep;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * A subcommand that works on the cluster of the cluster file: it gets a {@link ClusterScaler} whose
 * steps are printed as they happen, and returns an exit code; the scaler and the hosts' executors
 * are closed afterwards. A failure is left to {@link PolarScaleCli}'s handler, which maps it to an
 * exit code.
 */
abstract class ClusterCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** Does the work; returns the exit code. */
    abstract int run(ClusterScaler scaler, PrintWriter out) throws Exception;

    @Override
    public final Integer call() throws Exception {
        PolarScaleCli root = root();
        PrintWriter out = out();
        try (ClusterFile file = root.clusterFile();
             ClusterScaler scaler = ClusterScaler.forCluster(file.spec(root.progress(out)))) {
            return run(scaler, out);
        } finally {
            out.flush();
        }
    }

    PolarScaleCli root() {
        return (PolarScaleCli) spec.root().userObject();
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Whether this command runs under {@code plan} (at any depth): show the steps, run nothing. */
    boolean underPlan() {
        for (CommandSpec s = spec.parent(); s != null; s = s.parent()) {
            if (s.userObject() instanceof PlanCommand) {
                return true;
            }
        }
        return false;
    }

    /**
     * An operation {@code plan} can show: under {@code plan} (at any depth) its steps are printed and
     * nothing runs; otherwise it runs, each step printed as it finishes, then a summary line.
     */
    abstract static class Operation extends ClusterCommand {

        /** The operation's steps, with exact commands and SQL; runs nothing. */
        abstract List<PlannedStep> plan(ClusterScaler scaler);

        /** Runs the operation and prints what it did. */
        abstract void execute(ClusterScaler scaler, PrintWriter out);

        @Override
        final int run(ClusterScaler scaler, PrintWriter out) {
            if (underPlan()) {
                plan(scaler).forEach(out::println);
            } else {
                execute(scaler, out);
            }
            return ExitCodes.OK;
        }
    }

    /** Converts {@code 500ms}, {@code 30s}, {@code 2m}, {@code 1h} (positive). */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return YamlMap.duration(value).orElseThrow(() -> new CommandLine.TypeConversionException("'" + value
                    + "' is not a positive duration such as 500ms, 30s, 2m or 1h"));
        }
    }
}
