package dev.polarscale.core.internal.container;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.CommandTimeoutException;
import dev.polarscale.core.ContainerTarget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Runs a command inside a container by running the container CLI through another executor.
 * The inner command becomes an argument list for {@code docker exec} / {@code kubectl exec};
 * timeout, stdin, output listener and secrets carry over to that outer command unchanged.
 */
public final class ContainerCommandExecutor implements CommandExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerCommandExecutor.class);
    private static final String CD_AND_EXEC = "cd -- \"$1\" && shift && exec \"$@\"";

    private final CommandExecutor via;
    private final ContainerTarget target;
    private final String name;

    public ContainerCommandExecutor(CommandExecutor via, ContainerTarget target) {
        this.via = Objects.requireNonNull(via, "via");
        this.target = Objects.requireNonNull(target, "target");
        this.name = via.host() + "/" + target;
    }

    @Override
    public String host() {
        return name;
    }

    @Override
    public CommandResult execute(Command command) {
        Command outer = wrap(command, target);
        LOG.debug("{} - run: {}", name, command);
        try {
            return via.execute(outer);
        } catch (CommandTimeoutException e) {
            throw new CommandTimeoutException(name, command.redactedArgv(), command.timeout(),
                    name + " - command timed out after " + command.timeout().toMillis() + " ms; the "
                            + target.binary() + " client was killed, the process in the container may still run: "
                            + command, e);
        }
    }

    /** The command that runs {@code inner} in {@code target}, to be run on the executor that reaches the CLI. */
    public static Command wrap(Command inner, ContainerTarget target) {
        List<String> argv = new ArrayList<>();
        argv.add(target.binary());
        argv.add("exec");
        boolean stdin = inner.stdin().isPresent();
        if (target.kind() == ContainerTarget.Kind.KUBECTL) {
            if (inner.runAs().isPresent() || inner.isPrivileged()) {
                throw new IllegalArgumentException(target + " - kubectl exec cannot switch user; run the pod's"
                        + " container as the right user (securityContext.runAsUser) and drop "
                        + (inner.isPrivileged() ? "privileged()" : "asUser(\"" + inner.runAs().get() + "\")")
                        + " from: " + inner);
            }
            if (stdin) {
                argv.add("-i");
            }
            argv.add(target.name());
            target.namespace().ifPresent(ns -> argv.addAll(List.of("-n", ns)));
            target.podContainer().ifPresent(c -> argv.addAll(List.of("-c", c)));
            argv.add("--");
            inner.workingDirectory().ifPresent(dir -> argv.addAll(List.of("sh", "-c", CD_AND_EXEC, "sh",
                    dir.toString())));
            if (!inner.environment().isEmpty()) {
                argv.add("env");
                for (Map.Entry<String, String> e : inner.environment().entrySet()) {
                    argv.add(e.getKey() + "=" + e.getValue());
                }
            }
        } else {
            if (stdin) {
                argv.add("-i");
            }
            if (inner.runAs().isPresent()) {
                argv.addAll(List.of("-u", inner.runAs().get()));
            } else if (inner.isPrivileged()) {
                argv.addAll(List.of("-u", "0"));
            }
            inner.workingDirectory().ifPresent(dir -> argv.addAll(List.of("-w", dir.toString())));
            for (Map.Entry<String, String> e : inner.environment().entrySet()) {
                argv.addAll(List.of("-e", e.getKey() + "=" + e.getValue()));
            }
            argv.add(target.name());
        }
        argv.addAll(inner.argv());

        Command outer = Command.of(argv).withTimeout(inner.timeout());
        if (stdin) {
            outer = outer.withStdin(inner.stdin().get());
        }
        if (inner.outputListener().isPresent()) {
            outer = outer.withOutputListener(inner.outputListener().get());
        }
        for (String secret : inner.secrets()) {
            outer = outer.withSecret(secret);
        }
        if (target.isRuntimePrivileged()) {
            outer = outer.privileged();
        }
        return outer;
    }

    /** Does not close the executor it runs through: that belongs to the caller. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "ContainerCommandExecutor[" + name + "]";
    }
}
