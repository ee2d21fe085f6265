package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records commands instead of running them; every command "succeeds" with no output. */
final class RecordingExecutor implements CommandExecutor {
    final List<Command> commands = new CopyOnWriteArrayList<>();
    private final String host;

    RecordingExecutor(String host) {
        this.host = host;
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public CommandResult execute(Command command) {
        commands.add(command);
        return new CommandResult(0, "", "", Duration.ZERO);
    }
}
