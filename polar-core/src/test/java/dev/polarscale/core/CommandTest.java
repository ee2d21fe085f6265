package dev.polarscale.core;

import dev.polarscale.core.internal.exec.IdentitySwitch;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CommandTest {

    @Test
    void validatesEachCallAtOnce() {
        assertThrows(IllegalArgumentException.class, () -> Command.of(List.of()));
        assertThrows(IllegalArgumentException.class, () -> Command.of(" "));
        assertThrows(IllegalArgumentException.class, () -> Command.of("echo", "a\0b"));
        assertThrows(IllegalArgumentException.class, () -> Command.of("echo").withEnv("BAD NAME", "x"));
        assertThrows(IllegalArgumentException.class, () -> Command.of("echo").withEnv("A", "x\0"));
        assertThrows(IllegalArgumentException.class, () -> Command.of("echo").withTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> Command.of("echo").withWorkingDirectory(Path.of("rel")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Command.of("echo").asUser("root; rm -rf /"));
        assertTrue(e.getMessage().contains("root; rm -rf /"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> Command.of("echo").asUser("postgres").privileged());
    }

    @Test
    void isImmutable() {
        Command base = Command.of("echo", "a");
        Command other = base.withEnv("X", "1").withTimeout(Duration.ofSeconds(1));
        assertTrue(base.environment().isEmpty());
        assertEquals(Command.DEFAULT_TIMEOUT, base.timeout());
        assertEquals("1", other.environment().get("X"));
        assertThrows(UnsupportedOperationException.class, () -> base.argv().add("x"));
    }

    @Test
    void secretsAreMaskedEverywhere() {
        Command c = Command.of("psql", "password=hunter22").withSecret("hunter22").withEnv("PGPASSWORD", "pw-in-env");
        assertFalse(c.toString().contains("hunter22"), c.toString());
        assertEquals(List.of("psql", "password=" + Command.MASK), c.redactedArgv());
        assertEquals("x " + Command.MASK, c.redact("x pw-in-env"), "password-like env values are secrets");
    }

    @Test
    void identitySwitch() {
        Command c = Command.of("initdb", "-D", "/d").withEnv("LANG", "C");
        assertEquals(List.of("initdb", "-D", "/d"), IdentitySwitch.argv(c, "root", false));
        assertEquals(List.of("runuser", "-u", "postgres", "--", "initdb", "-D", "/d"),
                IdentitySwitch.argv(c.asUser("postgres"), "root", false), "runuser keeps the environment");
        assertEquals(List.of("sudo", "-n", "-u", "postgres", "--", "env", "LANG=C", "initdb", "-D", "/d"),
                IdentitySwitch.argv(c.asUser("postgres"), "alice", false), "sudo resets it, so env goes in argv");
        assertEquals(List.of("initdb", "-D", "/d"), IdentitySwitch.argv(c.asUser("alice"), "alice", false));
        assertEquals(List.of("sudo", "-n", "--", "env", "LANG=C", "initdb", "-D", "/d"),
                IdentitySwitch.argv(c.privileged(), "alice", false));
        assertEquals(List.of("initdb", "-D", "/d"), IdentitySwitch.argv(c.privileged(), "root", false));
        assertEquals(List.of("env", "LANG=C", "initdb", "-D", "/d"), IdentitySwitch.argv(c, "root", true));
    }

    @Test
    void shellQuoting() {
        assertEquals("'echo' 'it'\\''s $HOME'", ShellQuoting.join(List.of("echo", "it's $HOME")));
        assertEquals("''", ShellQuoting.quote(""));
        assertThrows(IllegalArgumentException.class, () -> ShellQuoting.quote("a\0"));
    }
}
