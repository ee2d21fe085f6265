package dev.polarscale.core.internal.container;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.CommandTimeoutException;
import dev.polarscale.core.ContainerTarget;
import dev.polarscale.core.PolarException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Runs a command inside a container by running the container CLI through another executor.
 * The inner command becomes an argument list for {@code docker exec} / {@code kubectl exec};
 * timeout, stdin, output listener and secrets carry over to that outer command unchanged.
 *
 * <p>Killing the CLI on timeout does not stop what it started: {@code docker exec} and
 * {@code podman exec} hand the process to the engine (a {@code conmon} or {@code containerd-shim}
 * outside the CLI's process tree), where it runs on. So every Docker/Podman command carries a
 * marker, {@code POLARSCALE_EXEC_ID=<random>}, in its environment, which its children inherit;
 * after a timeout a second {@code exec}, as the same user, SIGKILLs every process in the container
 * whose {@code /proc/<pid>/environ} holds it. That needs {@code sh}, {@code tr} and {@code grep} in
 * the image, and reaches only processes of that user which kept the environment (a child that
 * switched user or cleared its environment is missed). kubectl targets get no marker: the pod's
 * process may still run, as the exception then says.
 *
 * <p>A container that does not exist or does not run is the engine's error, not the command's
 * exit code: Podman's exit 125 with {@code Error: ...}, Docker's {@code Error response from
 * daemon: ...}; it is thrown as a {@link PolarException} {@link PolarException.Reason#HOST_UNREACHABLE}.
 */
public final class ContainerCommandExecutor implements CommandExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerCommandExecutor.class);
    private static final String CD_AND_EXEC = "cd -- \"$1\" && shift && exec \"$@\"";
    /** The environment variable that marks every process a Docker/Podman command starts. */
    public static final String EXEC_ID_ENV = "POLARSCALE_EXEC_ID";
    /**
     * Kills every process (but itself) whose environment holds the line {@code $1}; rounds until
     * none is left, so children forked meanwhile are caught; prints each round's PIDs.
     */
    static final String KILL_MARKED = "for round in 1 2 3 4 5; do found=; "
            + "for d in /proc/[0-9]*; do p=${d#/proc/}; [ \"$p\" = \"$$\" ] && continue; "
            + "if tr '\\000' '\\n' < \"$d/environ\" 2>/dev/null | grep -qxF -- \"$1\"; then "
            + "kill -KILL \"$p\" 2>/dev/null && found=\"$found $p\"; fi; done; "
            + "[ -z \"$found\" ] && exit 0; echo \"killed$found\"; sleep 0.2 2>/dev/null || sleep 1; done; exit 3";
    private static final Duration KILL_TIMEOUT = Duration.ofSeconds(30);
    private static final SecureRandom RANDOM = new SecureRandom();

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
        String execId = target.kind() == ContainerTarget.Kind.KUBECTL ? null : newExecId();
        Command outer = wrap(execId == null ? command : command.withEnv(EXEC_ID_ENV, execId), target);
        LOG.debug("{} - run: {}", name, command);
        CommandResult result;
        try {
            result = via.execute(outer);
        } catch (CommandTimeoutException e) {
            String inside = execId == null
                    ? "the process in the pod may still run (kubectl exec gives no way to stop it)"
                    : killMarked(command, execId);
            throw new CommandTimeoutException(name, command.redactedArgv(), command.timeout(),
                    name + " - command timed out after " + command.timeout().toMillis() + " ms; the "
                            + target.binary() + " client was killed and " + inside + ": " + command, e);
        }
        String engineError = engineError(result);
        if (engineError != null) {
            throw new PolarException(PolarException.Reason.HOST_UNREACHABLE, null, name, null, name + " - "
                    + target.binary() + " could not run the command in " + target + " (exit " + result.exitCode()
                    + "): " + command.redact(engineError) + "; command: " + command, null);
        }
        return result;
    }

    /**
     * The engine's own complaint when {@code result} is one (no such container, container not
     * running), else {@code null}. A command's own exit codes, 126 and 127 included, pass through.
     */
    private String engineError(CommandResult result) {
        String first = result.stderr().lines().findFirst().orElse("");
        return switch (target.kind()) {
            case PODMAN -> result.exitCode() == 125 && first.startsWith("Error: ") ? first : null;
            case DOCKER -> result.exitCode() != 0 && first.startsWith("Error response from daemon: ") ? first : null;
            case KUBECTL -> null;
        };
    }

    /** SIGKILLs what the timed-out command left in the container; says what happened. */
    private String killMarked(Command command, String execId) {
        Command kill = Command.of("sh", "-c", KILL_MARKED, "sh", EXEC_ID_ENV + "=" + execId).withTimeout(KILL_TIMEOUT);
        if (command.runAs().isPresent()) {
            kill = kill.asUser(command.runAs().get());
        } else if (command.isPrivileged()) {
            kill = kill.privileged();
        }
        try {
            CommandResult r = via.execute(wrap(kill, target));
            String killed = r.stdout().lines().map(l -> l.replaceFirst("^killed ", "")).collect(
                    java.util.stream.Collectors.joining(" "));
            if (r.succeeded()) {
                LOG.warn("{} - timed out after {} ms; killed its processes in the container: [{}]: {}", name,
                        command.timeout().toMillis(), killed, command);
                return killed.isEmpty() ? "no process of the command was left in the container"
                        : "its processes in the container were killed (PIDs " + killed + ")";
            }
            return "its processes in the container could not all be killed (exit " + r.exitCode() + ", killed ["
                    + killed + "]): " + r.stderrTail(3).strip() + "; they may still run";
        } catch (PolarException e) {
            return "its processes in the container could not be killed (" + e.getMessage() + "); they may still run";
        }
    }

    private static String newExecId() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
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
