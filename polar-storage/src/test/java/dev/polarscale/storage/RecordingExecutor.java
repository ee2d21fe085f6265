package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Test double: records every {@link Command} and answers from a script of argv-prefix rules.
 * A rule with several replies gives them in turn and repeats the last. An unscripted command
 * fails the test, so a test states every command it expects to run.
 */
public final class RecordingExecutor implements CommandExecutor {
    private final String host;
    private final List<Rule> rules = new ArrayList<>();
    private final List<Command> commands = new ArrayList<>();

    public RecordingExecutor(String host) {
        this.host = host;
    }

    /** Scripts the replies to every command whose argv starts with {@code argvPrefix}. */
    public Rule on(String... argvPrefix) {
        Rule r = new Rule(List.of(argvPrefix));
        rules.add(0, r); // later rules win
        return r;
    }

    public List<Command> commands() {
        return List.copyOf(commands);
    }

    public List<List<String>> argvs() {
        return commands.stream().map(Command::argv).toList();
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public synchronized CommandResult execute(Command command) {
        commands.add(command);
        for (Rule r : rules) {
            if (command.argv().size() >= r.prefix.size() && command.argv().subList(0, r.prefix.size()).equals(r.prefix)) {
                return r.next();
            }
        }
        throw new AssertionError("unscripted command: " + command);
    }

    public static String resource(String name) {
        try (InputStream in = RecordingExecutor.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new AssertionError("no test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static final class Rule {
        private final List<String> prefix;
        private final Deque<CommandResult> replies = new ArrayDeque<>();

        Rule(List<String> prefix) {
            this.prefix = prefix;
        }

        public Rule reply(int exit, String stdout, String stderr) {
            replies.add(new CommandResult(exit, stdout, stderr, Duration.ofMillis(1)));
            return this;
        }

        public Rule exit(int exit) {
            return reply(exit, "", "");
        }

        public Rule stdout(String stdout) {
            return reply(0, stdout, "");
        }

        CommandResult next() {
            return replies.size() > 1 ? replies.poll() : replies.peek();
        }
    }
}
