package dev.polarscale.core.internal.exec;

import dev.polarscale.core.Command;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns a {@link Command}'s "run as user" / "privileged" flags into the argument list that
 * does it, for an executor that knows who it is. Root switches with {@code runuser -u USER --}
 * (no password, no PAM prompt); anyone else with {@code sudo -n} (fails at once instead of
 * prompting). {@code runuser} keeps the caller's environment, so the variables travel
 * out of sight of {@code ps}; {@code sudo} resets it, so there they go through
 * {@code env K=V ...} after the switch (prefer a {@code .pgpass} file for passwords then).
 */
public final class IdentitySwitch {
    private IdentitySwitch() {
    }

    /**
     * @param command   what to run
     * @param self      the user the executor runs as
     * @param envInArgv also put the command's environment into the argv ({@code env K=V}) even
     *                  when no switch happens (SSH, where the server ignores most variables)
     * @return the argv to execute
     */
    public static List<String> argv(Command command, String self, boolean envInArgv) {
        boolean root = "root".equals(self);
        List<String> prefix = new ArrayList<>();
        if (command.runAs().isPresent() && !command.runAs().get().equals(self)) {
            String user = command.runAs().get();
            if (root) {
                prefix.addAll(List.of("runuser", "-u", user, "--"));
            } else {
                prefix.addAll(List.of("sudo", "-n", "-u", user, "--"));
            }
        } else if (command.isPrivileged() && !root) {
            prefix.addAll(List.of("sudo", "-n", "--"));
        }
        boolean viaSudo = !prefix.isEmpty() && prefix.get(0).equals("sudo");
        List<String> argv = new ArrayList<>(prefix);
        if ((viaSudo || envInArgv) && !command.environment().isEmpty()) {
            argv.add("env");
            for (Map.Entry<String, String> e : command.environment().entrySet()) {
                argv.add(e.getKey() + "=" + e.getValue());
            }
        }
        argv.addAll(command.argv());
        return argv;
    }
}
