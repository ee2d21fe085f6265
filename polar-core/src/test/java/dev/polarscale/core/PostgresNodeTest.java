package dev.polarscale.core;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Building a node is building a value: no command, no file; host facts are asked on first use. */
class PostgresNodeTest {

    /** Answers {@code id -un} with a fixed user and records every command. */
    private static final class Recorder implements CommandExecutor {
        final List<Command> commands = new ArrayList<>();
        final String user;

        Recorder(String user) {
            this.user = user;
        }

        @Override
        public String host() {
            return "recorder";
        }

        @Override
        public CommandResult execute(Command command) {
            commands.add(command);
            boolean whoami = command.argv().equals(List.of("id", "-un"));
            return new CommandResult(whoami ? 0 : 3, whoami ? user + "\n" : "", "", java.time.Duration.ZERO);
        }
    }

    private static PostgresNode.Builder builder(CommandExecutor executor) {
        return PostgresNode.builder().name("n1").installation(new PgInstallation(Path.of("/nowhere/bin")))
                .executor(executor).dataDirectory(Path.of("/data/n1")).port(5432);
    }

    @Test
    void buildRunsNoCommandWhateverTheUserMode() {
        Recorder r = new Recorder("root");
        builder(r).build();
        builder(r).runAsExecutorUser().build();
        builder(r).osUser("postgres").build();
        builder(r).build().toBuilder().name("n2").build();
        assertEquals(List.of(), r.commands);
    }

    @Test
    void theInstallationIsRequiredInsteadOfSearchedFor() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> PostgresNode.builder().name("n1")
                .dataDirectory(Path.of("/data/n1")).port(5432).build());
        assertTrue(e.getMessage().contains("installation is required"), e.getMessage());
    }

    @Test
    void theOsUserIsAskedOnceOnFirstUse() {
        Recorder r = new Recorder("polar");
        PostgresNode n = builder(r).build();
        assertEquals(Optional.empty(), n.osUser(), "a non-root executor runs servers as itself");
        assertEquals(Optional.empty(), n.osUser());
        assertEquals(1, r.commands.size(), "one id -un, remembered: " + r.commands);
    }

    @Test
    void anExplicitUserNeedsNoQuestion() {
        Recorder r = new Recorder("root");
        PostgresNode n = builder(r).osUser("postgres").build();
        assertEquals(Optional.of("postgres"), n.osUser());
        n.status();
        assertEquals(List.of(Optional.of("postgres")), r.commands.stream().map(Command::runAs).toList(),
                "only pg_ctl status ran, as postgres");
    }

    @Test
    void runningAsARootExecutorIsRefusedOnFirstUse() {
        PostgresNode n = builder(new Recorder("root")).runAsExecutorUser().build();
        IllegalStateException e = assertThrows(IllegalStateException.class, n::status);
        assertTrue(e.getMessage().contains("the executor runs as root"), e.getMessage());
    }
}
