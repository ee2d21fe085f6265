package dev.polarscale.core;

import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.util.Optional;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code Executors.ssh} against an in-process SSH server that runs commands with a real /bin/sh. */
class SshExecutorIT {

    @TempDir
    static Path dir;

    private static ShellSshServer server;
    private static Path knownHosts;
    private static CommandExecutor ssh;

    @BeforeAll
    static void startServer() throws Exception {
        Path home = Files.createDirectories(dir.resolve("home"));
        server = new ShellSshServer(home);
        knownHosts = dir.resolve("known_hosts");
        Files.writeString(knownHosts, "# test\n" + server.knownHostsLine(server.hostKey));
        ssh = Executors.ssh(target().build());
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (ssh != null) {
            ssh.close();
        }
        if (server != null) {
            server.close();
        }
    }

    /** Key auth, strict checking against a known_hosts file that lists the server. */
    private static SshTarget.Builder target() {
        return SshTarget.builder()
                .host("127.0.0.1")
                .port(server.port())
                .user(ShellSshServer.USER)
                .keyPair(server.clientKey)
                .knownHostsFile(knownHosts)
                .connectTimeout(Duration.ofSeconds(10))
                .authTimeout(Duration.ofSeconds(10));
    }

    private String hostPort() {
        return "127.0.0.1:" + server.port();
    }

    @Test
    void exitCodesAreReported() {
        assertEquals(0, ssh.run(Command.of("true")).exitCode());
        assertEquals(3, ssh.execute(Command.of("sh", "-c", "exit 3")).exitCode());
        CommandFailedException e = assertThrows(CommandFailedException.class,
                () -> ssh.run(Command.of("sh", "-c", "echo broken >&2; exit 3")));
        assertEquals(3, e.exitCode());
        assertEquals(Optional.of(hostPort()), e.host());
        assertTrue(e.getMessage().contains("broken"), e.getMessage());
    }

    @Test
    void stdoutAndStderrAreCapturedSeparately() {
        CommandResult r = ssh.execute(Command.of("sh", "-c", "echo out; echo err >&2; exit 1"));
        assertEquals(1, r.exitCode());
        assertEquals("out\n", r.stdout());
        assertEquals("err\n", r.stderr());
    }

    @Test
    void stdinRoundTrips() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 5000; i++) {
            text.append(i).append(" ünïcödé 😀 'quote' \"dq\" $HOME\n");
        }
        CommandResult r = ssh.run(Command.of("cat").withStdin(text.toString()));
        assertEquals(text.toString(), r.stdout());

        byte[] binary = new byte[256 * 1000];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) i;
        }
        CommandResult count = ssh.run(Command.of("wc", "-c").withStdin(binary));
        assertEquals(String.valueOf(binary.length), count.stdout().trim());
        CommandResult sum = ssh.run(Command.of("sh", "-c", "od -An -tu1 -v | tr -s ' \\n' '\\n\\n' | grep -c '^255$'")
                .withStdin(binary));
        assertEquals("1000", sum.stdout().trim());
    }

    @Test
    void withoutStdinTheCommandSeesEndOfInput() {
        CommandResult r = ssh.run(Command.of("cat").withTimeout(Duration.ofSeconds(10)));
        assertEquals("", r.stdout());
    }

    @Test
    void environmentIsPassed() {
        String value = "a b $HOME `id` 'single' \"double\" \\ ünï\nline2";
        CommandResult r = ssh.run(Command.of("sh", "-c", "printf %s \"$POLAR_TEST\"").withEnv("POLAR_TEST", value));
        assertEquals(value, r.stdout());
    }

    @Test
    void workingDirectoryIsUsed() throws Exception {
        Path wd = Files.createDirectories(dir.resolve("work dir with 'quote' and $x")).toRealPath();
        CommandResult r = ssh.run(Command.of("pwd").withWorkingDirectory(wd));
        assertEquals(wd + "\n", r.stdout());

        CommandResult missing = ssh.execute(Command.of("pwd").withWorkingDirectory(dir.resolve("nope")));
        assertTrue(missing.exitCode() != 0, "cd into a missing directory must fail the command");
        assertEquals("", missing.stdout());
    }

    @Test
    void outputListenerGetsLines() {
        List<String> lines = new CopyOnWriteArrayList<>();
        ssh.run(Command.of("sh", "-c", "echo one; echo two >&2; printf three")
                .withOutputListener((stream, line) -> lines.add(stream + ":" + line)));
        assertTrue(lines.containsAll(List.of("STDOUT:one", "STDERR:two", "STDOUT:three")), lines.toString());
        assertEquals(3, lines.size(), lines.toString());
    }

    @Test
    void timeoutKillsTheRemoteCommandQuickly() throws Exception {
        String marker = "polar-timeout-" + System.nanoTime();
        long start = System.nanoTime();
        CommandTimeoutException e = assertThrows(CommandTimeoutException.class,
                () -> ssh.execute(Command.of("sh", "-c", "exec sleep 100", marker).withTimeout(Duration.ofSeconds(1))));
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(tookMs < 6000, "timeout took " + tookMs + " ms");
        assertEquals(Optional.of(hostPort()), e.host());
        assertEquals(Duration.ofSeconds(1), e.timeout());

        List<ShellSshServer.Started> started = server.startedMatching(marker);
        assertEquals(1, started.size());
        ShellSshServer.Started s = started.get(0);
        assertTrue(s.process().waitFor(5, TimeUnit.SECONDS), "remote process still alive after the timeout");
        assertEquals(List.of("KILL"), List.copyOf(s.signals()));

        assertEquals("still usable\n", ssh.run(Command.of("echo", "still usable")).stdout());
    }

    @Test
    void unknownHostKeyIsRejectedByDefault() throws Exception {
        Path empty = Files.writeString(dir.resolve("known_hosts_empty"), "# nothing here\n");
        SshException e = assertThrows(SshException.class,
                () -> runTrue(target().knownHostsFile(empty).build()));
        assertEquals(PolarException.Reason.HOST_KEY_REJECTED, e.reason());
        assertTrue(e.getMessage().startsWith(hostPort() + " - host key rejected"), e.getMessage());
        assertTrue(e.getMessage().contains("is not listed"), e.getMessage());

        Path missing = dir.resolve("no_such_known_hosts");
        SshException e2 = assertThrows(SshException.class,
                () -> runTrue(target().knownHostsFile(missing).build()));
        assertEquals(PolarException.Reason.HOST_KEY_REJECTED, e2.reason());
        assertTrue(e2.getMessage().contains("does not exist"), e2.getMessage());
        assertFalse(Files.exists(missing), "known_hosts must never be written");
    }

    @Test
    void changedHostKeyIsRejected() throws Exception {
        Path other = Files.writeString(dir.resolve("known_hosts_other"),
                server.knownHostsLine(ShellSshServer.ecKey()));
        String before = Files.readString(other);
        SshException e = assertThrows(SshException.class,
                () -> runTrue(target().knownHostsFile(other).build()));
        assertEquals(PolarException.Reason.HOST_KEY_REJECTED, e.reason());
        assertTrue(e.getMessage().contains("DIFFERS"), e.getMessage());
        assertTrue(e.getMessage().contains(hostPort()), e.getMessage());
        assertEquals(before, Files.readString(other), "known_hosts must never be modified");
    }

    @Test
    void listedHostKeyIsAccepted() throws Exception {
        Path only = Files.writeString(dir.resolve("known_hosts_ok"), server.knownHostsLine(server.hostKey));
        runTrue(target().knownHostsFile(only).build());
    }

    @Test
    void insecureOptOutAcceptsAnUnknownKey() throws Exception {
        Path empty = Files.writeString(dir.resolve("known_hosts_empty2"), "");
        runTrue(target().knownHostsFile(empty).acceptAnyHostKeyInsecurely().build());
    }

    @Test
    void passwordAuthenticationWorks() {
        runTrue(SshTarget.builder().host("127.0.0.1").port(server.port()).user(ShellSshServer.USER)
                .password(ShellSshServer.PASSWORD).knownHostsFile(knownHosts).build());
    }

    @Test
    void wrongPasswordFailsWithoutRevealingIt() {
        String wrong = "Wr0ng-Passw0rd-" + System.nanoTime();
        SshTarget t = SshTarget.builder().host("127.0.0.1").port(server.port()).user(ShellSshServer.USER)
                .password(wrong).knownHostsFile(knownHosts).authTimeout(Duration.ofSeconds(10)).build();
        SshException e = assertThrows(SshException.class, () -> runTrue(t));
        assertEquals(PolarException.Reason.AUTH_FAILED, e.reason());
        assertTrue(e.getMessage().startsWith(hostPort() + " - authentication as 'polar' failed"), e.getMessage());
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        assertFalse(trace.toString().contains(wrong), "password leaked into the exception:\n" + trace);
        assertFalse(t.toString().contains(wrong), t.toString());
    }

    @Test
    void privateKeyFileAuthenticationWorks() throws Exception {
        Path key = dir.resolve("id_ecdsa");
        try (OutputStream o = Files.newOutputStream(key)) {
            OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(server.clientKey, "test key", null, o);
        }
        runTrue(SshTarget.builder().host("127.0.0.1").port(server.port()).user(ShellSshServer.USER)
                .privateKeyFile(key).knownHostsFile(knownHosts).build());
    }

    @Test
    void connectionRefusedNamesHostAndPort() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        SshTarget t = target().port(port).connectTimeout(Duration.ofSeconds(3)).build();
        SshException e = assertThrows(SshException.class, () -> runTrue(t));
        assertEquals(PolarException.Reason.HOST_UNREACHABLE, e.reason());
        assertTrue(e.getMessage().startsWith("127.0.0.1:" + port + " - cannot connect"), e.getMessage());
    }

    @Test
    void oneSessionServesManyCommands() {
        int before = server.sessionsCreated.get();
        try (CommandExecutor x = Executors.ssh(target().build())) {
            for (int i = 0; i < 3; i++) {
                assertEquals(i + "\n", x.run(Command.of("echo", String.valueOf(i))).stdout());
            }
        }
        assertEquals(1, server.sessionsCreated.get() - before);
    }

    @Test
    void concurrentCommandsShareTheSession() throws Exception {
        int before = server.sessionsCreated.get();
        ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try (CommandExecutor x = Executors.ssh(target().build())) {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                String arg = "job-" + i;
                results.add(pool.submit(() -> x.run(Command.of("sh", "-c", "sleep 0.1; printf %s \"$0\"", arg)).stdout()));
            }
            for (int i = 0; i < 12; i++) {
                assertEquals("job-" + i, results.get(i).get(30, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, server.sessionsCreated.get() - before);
    }

    @Test
    void reconnectsAfterTheServerClosedTheSession() {
        try (CommandExecutor x = Executors.ssh(target().build())) {
            int before = server.sessionsCreated.get();
            x.run(Command.of("true"));
            server.closeAllSessions();
            assertEquals("again\n", x.run(Command.of("echo", "again")).stdout());
            assertEquals(2, server.sessionsCreated.get() - before);
        }
    }

    @Test
    void connectionCutMidCommandIsAnErrorNotExitZero() throws Exception {
        try (CommandExecutor x = Executors.ssh(target().build())) {
            x.run(Command.of("true"));
            String marker = "polar-cut-" + System.nanoTime();
            CompletableFuture<CommandResult> running = CompletableFuture.supplyAsync(
                    () -> x.execute(Command.of("sh", "-c", "sleep 30", marker).withTimeout(Duration.ofSeconds(60))));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (server.startedMatching(marker).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertFalse(server.startedMatching(marker).isEmpty(), "command never started");
            server.closeAllSessions();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> running.get(10, TimeUnit.SECONDS));
            SshException cause = assertInstanceOf(SshException.class, e.getCause());
            assertEquals(PolarException.Reason.CONNECTION_LOST, cause.reason());
            assertTrue(cause.getMessage().startsWith(hostPort() + " - connection lost"), cause.getMessage());
        }
    }

    @Test
    void closedExecutorRefusesCommands() {
        CommandExecutor x = Executors.ssh(target().build());
        x.run(Command.of("true"));
        x.close();
        assertThrows(IllegalStateException.class, () -> x.run(Command.of("true")));
    }

    /**
     * The quoting proof: 1,200 random arguments full of shell metacharacters go through the
     * exec string to a real /bin/sh and come back from printf byte for byte.
     */
    @Test
    void randomArgumentsSurviveTheRemoteShellExactly() {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        List<String> args = new ArrayList<>(List.of("", "-", "--", "-n", "--help", "-e", "'", "''", "\"", "\\",
                "\\'", "$", "$$", "$(id)", "${HOME}", "`id`", "*", "?", "~", "!", "#", ";", "&&", "|", "<", ">",
                "a\nb", "\t", " ", "  leading", "trailing  ", "%s", "%d%%", "\\0", "\\n", "😀", "é", "日本語",
                "'$(touch /tmp/polar-pwned)'", "\"`touch /tmp/polar-pwned`\"", "\r\n", "\u00a0", "\u2028"));
        while (args.size() < 1200) {
            args.add(randomArg(rnd));
        }
        int batch = 60;
        for (int from = 0; from < args.size(); from += batch) {
            List<String> chunk = args.subList(from, Math.min(args.size(), from + batch));
            List<String> argv = new ArrayList<>(List.of("printf", "%s\\0"));
            argv.addAll(chunk);
            CommandResult r = ssh.run(Command.of(argv));
            String out = r.stdout();
            assertTrue(out.endsWith("\0"), "seed " + seed + ": output must end with NUL");
            List<String> back = Arrays.asList(out.substring(0, out.length() - 1).split("\0", -1));
            assertEquals(chunk.size(), back.size(), "seed " + seed + ": argument count");
            for (int i = 0; i < chunk.size(); i++) {
                assertArrayEquals(chunk.get(i).getBytes(StandardCharsets.UTF_8),
                        back.get(i).getBytes(StandardCharsets.UTF_8),
                        "seed " + seed + ": argument " + (from + i) + " <" + chunk.get(i) + "> came back as <"
                                + back.get(i) + ">");
            }
        }
        assertFalse(Files.exists(Path.of("/tmp/polar-pwned")), "an argument was executed by the shell");
    }

    private static final String[] PIECES = {
        "'", "\"", " ", "  ", "$", "`", "\\", "\n", "\t", "$(echo x)", "${HOME}", "$((1+1))", "${x:-y}", "!", "*",
        "?", "[a]", "{a,b}", "~", "#", ";", "&", "|", "<", ">", "(", ")", "%", "%s", "-", "--", "=", "é", "ß",
        "中文", "😀", "👩‍💻", "\u00a0", "\r", "a", "Z", "0", "9", "_", ".", "/", ":", "@", "^", "'\\''",
    };

    private static String randomArg(Random rnd) {
        int kind = rnd.nextInt(10);
        if (kind == 0) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        if (kind == 1) {
            sb.append(rnd.nextBoolean() ? "-" : "--");
        }
        int n = rnd.nextInt(12);
        for (int i = 0; i < n; i++) {
            if (rnd.nextInt(4) == 0) {
                // any BMP code point that is not NUL or a surrogate, or a supplementary one
                int cp;
                do {
                    cp = rnd.nextInt(8) == 0 ? 0x10000 + rnd.nextInt(0x10FFFF - 0x10000) : 1 + rnd.nextInt(0xFFFF);
                } while (Character.isSurrogate((char) cp) && cp < 0x10000);
                sb.appendCodePoint(cp);
            } else {
                sb.append(PIECES[rnd.nextInt(PIECES.length)]);
            }
        }
        return sb.toString();
    }

    private static void runTrue(SshTarget t) {
        try (CommandExecutor x = Executors.ssh(t)) {
            x.run(Command.of("true"));
        }
    }
}
