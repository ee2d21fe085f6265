package dev.polarscale.examples.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * {@code plan <operation> ...}: the operation's steps with the exact commands and SQL (secrets
 * masked), the same list the operation runs; nothing is changed on any host. Its subcommands are
 * the operations' own classes, which see {@code plan} among their parents.
 */
@Command(name = "plan", description = "Print the steps an operation would run (exact commands and SQL, secrets "
        + "masked); change nothing.", subcommands = {DeployCommand.class, AdoptCommand.class, AddCommand.class,
        RemoveCommand.class, ScaleCommand.class})
final class PlanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("polarscale: say which operation to plan");
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }
}
