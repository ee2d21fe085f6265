package dev.polarscale.examples;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;

/** The README's main command. For now: proves the local executor runs real processes. */
public final class Demo {
    private Demo() {
    }

    public static void main(String[] args) {
        try (CommandExecutor local = Executors.local()) {
            CommandResult r = local.run(Command.of("uname", "-srm"));
            System.out.printf("PolarScale demo: ran `uname -srm` through the local executor in %d ms: %s%n",
                    r.duration().toMillis(), r.stdout().strip());
        }
    }
}
