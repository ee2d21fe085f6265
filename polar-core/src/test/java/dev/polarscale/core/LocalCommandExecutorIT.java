package dev.polarscale.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Optional;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The local executor against real processes. */
class LocalCommandExecutorIT {
    private final CommandExecutor local = Executors.local();

    @Test
    void returnsExitCodesAndOutput() {
        CommandResult ok = local.run(Command.of("sh", "-c", "echo out; echo err >&2"));
        assertEquals(0, ok.exitCode());
        assertEquals("out\n", ok.stdout());
        assertEquals("err\n", ok.stderr());

        CommandResult seven = local.execute(Command.of("sh", "-c", "echo broken >&2; exit 7"));
        assertEquals(7, seven.exitCode());

        CommandFailedException e = assertThrows(CommandFailedException.class,
                () -> local.run(Command.of("sh", "-c", "echo broken >&2; exit 7")));
        assertEquals(7, e.exitCode());
        assertEquals(Optional.of("localhost"), e.host());
        assertTrue(e.getMessage().contains("exit code 7"), e.getMessage());
        assertTrue(e.getMessage().contains("broken"), e.getMessage());
    }

    @Test
    void missingProgramIsATypedError() {
        PolarException e = assertThrows(PolarException.class,
                () -> local.execute(Command.of("/nonexistent/polarscale-no-such-program")));
        assertTrue(e.getMessage().contains("polarscale-no-such-program"), e.getMessage());
        assertTrue(e.getMessage().contains("No such file or directory"), "the OS's reason: " + e.getMessage());
    }

    @Test
    @Timeout(120)
    void largeOutputOnBothStreamsDoesNotDeadlock() {
        int size = 12 * 1024 * 1024;
        CommandResult r = local.run(Command.of("sh", "-c",
                "head -c " + size + " /dev/zero | tr '\\0' a & head -c " + size + " /dev/zero | tr '\\0' b >&2; wait"));
        assertEquals(size, r.stdout().length());
        assertEquals(size, r.stderr().length());
        assertTrue(r.stdout().chars().allMatch(c -> c == 'a'));
        assertTrue(r.stderr().chars().allMatch(c -> c == 'b'));
    }

    @Test
    void stdinIsPassedAndClosed() {
        byte[] input = new byte[3 * 1024 * 1024];
        new Random(42).nextBytes(input);
        CommandResult r = local.run(Command.of("sh", "-c", "cat | od -An -v -tx1 | tr -d ' \\n'").withStdin(input));
        StringBuilder hex = new StringBuilder();
        for (byte b : input) {
            hex.append(String.format("%02x", b));
        }
        assertEquals(hex.toString(), r.stdout());
        // no stdin at all: cat must see EOF, not hang
        assertEquals("", local.run(Command.of("cat").withTimeout(Duration.ofSeconds(10))).stdout());
    }

    @Test
    void environmentAndWorkingDirectory() throws Exception {
        Path dir = Files.createTempDirectory("polarscale-wd").toRealPath();
        try {
            CommandResult r = local.run(Command.of("sh", "-c", "printf '%s|' \"$POLAR_A\" \"$PATH\"; pwd")
                    .withEnv("POLAR_A", "x y 'z' $HOME")
                    .withWorkingDirectory(dir));
            String[] parts = r.stdout().split("\\|");
            assertEquals("x y 'z' $HOME", parts[0]);
            assertFalse(parts[1].isEmpty(), "PATH is inherited");
            assertEquals(dir.toString(), parts[2].strip());
        } finally {
            Files.delete(dir);
        }
    }

    @Test
    void argumentsReachTheProcessByteExact() {
        Random rnd = new Random(7);
        String alphabet = "ab $`'\"\\\n\t;&|<>*?~#${}()[]!%=-äöü中文😀 ";
        List<String> args = new ArrayList<>();
        args.add("${HOME}");
        args.add("$(id)");
        args.add("");
        args.add("--");
        args.add("\"quoted\"");
        for (int i = 0; i < 500; i++) {
            StringBuilder sb = new StringBuilder();
            int len = rnd.nextInt(20);
            for (int j = 0; j < len; j++) {
                sb.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, rnd.nextInt(alphabet.codePointCount(0, alphabet.length())))));
            }
            args.add(sb.toString());
        }
        List<String> argv = new ArrayList<>(List.of("printf", "%s\\0"));
        argv.addAll(args);
        CommandResult r = local.run(Command.of(argv));
        String[] back = r.stdout().split("\0", -1);
        assertEquals(args.size() + 1, back.length);
        for (int i = 0; i < args.size(); i++) {
            assertEquals(args.get(i), back[i], "argument " + i);
        }
    }

    @Test
    @Timeout(60)
    void timeoutKillsTheWholeProcessTree() throws Exception {
        String marker = "31" + (System.nanoTime() % 1_000_000);
        Command tree = Command.of("sh", "-c", "sleep " + marker + " & sleep " + marker + "; wait")
                .withTimeout(Duration.ofMillis(700));
        long t0 = System.nanoTime();
        CommandTimeoutException e = assertThrows(CommandTimeoutException.class, () -> local.execute(tree));
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(Duration.ofMillis(700), e.timeout());
        assertTrue(e.getMessage().contains("timed out"), e.getMessage());
        Thread.sleep(200);
        CommandResult survivors = local.execute(Command.of("pgrep", "-f", "sleep " + marker));
        assertEquals(1, survivors.exitCode(), "survivor processes: " + survivors.stdout());
        System.out.println("timeout fired and tree killed after " + tookMs + " ms");
    }

    @Test
    @Timeout(60)
    void interruptKillsTheProcessAndKeepsTheFlag() throws Exception {
        String marker = "41" + (System.nanoTime() % 1_000_000);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicReference<Boolean> flag = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                local.execute(Command.of("sh", "-c", "sleep " + marker + "; :"));
            } catch (Throwable e) {
                thrown.set(e);
                flag.set(Thread.currentThread().isInterrupted());
            }
        });
        t.start();
        Thread.sleep(500);
        t.interrupt();
        t.join(20_000);
        assertInstanceOf(PolarException.class, thrown.get());
        assertTrue(flag.get(), "interrupt flag restored");
        assertEquals(1, local.execute(Command.of("pgrep", "-f", "sleep " + marker)).exitCode());
    }

    @Test
    void outputListenerSeesLinesAsTheyCome() {
        List<String> lines = new CopyOnWriteArrayList<>();
        local.run(Command.of("sh", "-c", "echo one; echo two >&2; printf three")
                .withOutputListener((stream, line) -> lines.add(stream + ":" + line)));
        assertTrue(lines.contains("STDOUT:one"), lines.toString());
        assertTrue(lines.contains("STDERR:two"), lines.toString());
        assertTrue(lines.contains("STDOUT:three"), lines.toString());
    }

    @Test
    void secretsNeverReachTheMessage() {
        String secret = "s3cr3t-Pa55word";
        CommandFailedException e = assertThrows(CommandFailedException.class, () -> local.run(
                Command.of("sh", "-c", "echo \"bad password $1\" >&2; exit 2", "sh", secret).withSecret(secret)));
        assertFalse(e.getMessage().contains(secret), e.getMessage());
        assertTrue(e.getMessage().contains(Command.MASK), e.getMessage());
        assertFalse(String.join(" ", e.redactedArgv()).contains(secret));
        CommandFailedException env = assertThrows(CommandFailedException.class, () -> local.run(
                Command.of("sh", "-c", "echo \"$PGPASSWORD\" >&2; exit 2").withEnv("PGPASSWORD", secret)));
        assertFalse(env.getMessage().contains(secret), env.getMessage());
    }

    @Test
    void runsAsAnotherUser() {
        String self = OsUsers.whoami(local);
        if ("root".equals(self)) {
            assumeTrue(OsUsers.exists(local, "nobody"), "no 'nobody' user on this machine");
            assertEquals("nobody", local.run(Command.of("id", "-un").asUser("nobody")).stdout().strip());
            // environment survives the switch
            assertEquals("v1", local.run(Command.of("sh", "-c", "printf %s \"$POLAR_X\"")
                    .withEnv("POLAR_X", "v1").asUser("nobody")).stdout());
            assertEquals("0", local.run(Command.of("id", "-u").privileged()).stdout().strip());
        } else {
            assumeTrue(passwordlessSudo(),
                    "running as '" + self + "' without password-less sudo: user switching cannot be tested");
            assertEquals("0", local.run(Command.of("id", "-u").privileged()).stdout().strip());
        }
        assertEquals(self, local.run(Command.of("id", "-un").asUser(self)).stdout().strip(), "no switch to self");
    }

    private boolean passwordlessSudo() {
        try {
            return local.execute(Command.of("sudo", "-n", "true")).succeeded();
        } catch (PolarException notInstalled) {
            return false;
        }
    }

    @Test
    void stdinBytesAreNotShared() {
        byte[] in = "abc".getBytes(StandardCharsets.UTF_8);
        Command c = Command.of("cat").withStdin(in);
        in[0] = 'X';
        assertArrayEquals("abc".getBytes(StandardCharsets.UTF_8), local.run(c).stdout().getBytes(StandardCharsets.UTF_8));
    }
}
