package dev.polarscale.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The choice of server OS user (decision logic; the real useradd is run by hand, see README). */
class OsUsersTest {

    /** Answers commands from a script and records them. */
    private static final class Scripted implements CommandExecutor {
        final List<List<String>> seen = new ArrayList<>();
        private final Function<List<String>, CommandResult> answer;

        Scripted(Function<List<String>, CommandResult> answer) {
            this.answer = answer;
        }

        @Override
        public String host() {
            return "test";
        }

        @Override
        public CommandResult execute(Command command) {
            seen.add(command.argv());
            return answer.apply(command.argv());
        }
    }

    private static CommandResult ok(String out) {
        return new CommandResult(0, out, "", Duration.ZERO);
    }

    private static CommandResult fail() {
        return new CommandResult(1, "", "no such user", Duration.ZERO);
    }

    @Test
    void nonRootRunsServersAsItself() {
        Scripted ex = new Scripted(argv -> ok("alice\n"));
        assertEquals(Optional.empty(), OsUsers.serverUser(ex));
        assertEquals(1, ex.seen.size(), "only id -un: " + ex.seen);
    }

    @Test
    void rootPrefersPostgres() {
        Scripted ex = new Scripted(argv -> argv.equals(List.of("id", "-un")) ? ok("root\n") : ok("101\n"));
        assertEquals(Optional.of("postgres"), OsUsers.serverUser(ex));
        assertTrue(ex.seen.stream().noneMatch(a -> a.get(0).equals("useradd")), "creates nobody: " + ex.seen);
    }

    @Test
    void rootWithoutPostgresCreatesTheSystemUserOnce() {
        List<String> users = new ArrayList<>();
        Scripted ex = new Scripted(argv -> {
            if (argv.equals(List.of("id", "-un"))) {
                return ok("root\n");
            }
            if (argv.get(0).equals("id")) {
                return users.contains(argv.get(argv.size() - 1)) ? ok("999\n") : fail();
            }
            if (argv.get(0).equals("useradd")) {
                users.add(argv.get(argv.size() - 1));
                return ok("");
            }
            throw new AssertionError("unexpected " + argv);
        });
        assertEquals(Optional.of(OsUsers.CREATED_USER), OsUsers.serverUser(ex));
        assertEquals(List.of("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                "--user-group", "polarscale"), ex.seen.stream().filter(a -> a.get(0).equals("useradd")).findFirst()
                .orElseThrow());
        assertEquals(Optional.of(OsUsers.CREATED_USER), OsUsers.serverUser(ex));
        assertEquals(1, ex.seen.stream().filter(a -> a.get(0).equals("useradd")).count(), "created once");
    }

    @Test
    void rootIsNeverAServerUser() {
        assertThrows(IllegalArgumentException.class, () -> OsUsers.requireServerUser("root"));
        assertThrows(IllegalArgumentException.class, () -> OsUsers.requireServerUser("bad user"));
        assertEquals("postgres", OsUsers.requireServerUser("postgres"));
    }
}
