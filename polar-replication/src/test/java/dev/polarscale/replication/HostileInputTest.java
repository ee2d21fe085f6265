package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.ConnInfo;
import dev.polarscale.core.HbaRule;
import dev.polarscale.core.HostId;
import dev.polarscale.core.NodeConfig;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PgBinaries;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PolarStorage;
import dev.polarscale.core.Port;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.ShellQuoting;
import dev.polarscale.core.SlotName;
import dev.polarscale.core.SshTarget;
import dev.polarscale.storage.PolarInitdb;
import dev.polarscale.storage.SharedStorage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hostile input at every public entry point: names with quotes, {@code ;}, spaces or 64+
 * characters; GUC names and values with newlines; paths that are relative, hold {@code ..} or
 * control characters; ports 0 and 65536; host ids 0 and 513; CIDRs that are not CIDRs or are
 * {@code 0.0.0.0/0}; empty strings; passwords with control characters. Each is refused with
 * {@link IllegalArgumentException} (or a {@link PolarException}) before any command runs: every
 * executor in reach records instead of running, and records nothing. Paths the library accepts
 * with shell metacharacters in them are shown to reach commands only as whole arguments.
 */
class HostileInputTest {
    private static final RecordingExecutor RECORDER = new RecordingExecutor("127.0.0.1");
    private static final AtomicInteger TRIED = new AtomicInteger();
    private static final PgInstallation PG = PgBinaries.locate(); // the host install or the embedded one
    private static final Path OK_DIR = Path.of("/srv/polar/ok");

    /** A cluster whose only host records commands; nothing listens on its primary port. */
    private static ClusterSpec.Builder cluster() {
        return ClusterSpec.builder().primary("primary", "127.0.0.1", 1, Path.of("/srv/polar/primary"))
                .host("127.0.0.1", RECORDER).osUser("postgres").installation(PG)
                .lockTimeout(Duration.ofMillis(100));
    }

    private static PostgresNode.Builder node() {
        return PostgresNode.builder().name("n1").installation(PG).executor(RECORDER).dataDirectory(OK_DIR)
                .port(5433).osUser("postgres");
    }

    private static NodeSpec.Builder nodeSpec() {
        return NodeSpec.builder().name("n1").port(5433).dataDirectory(OK_DIR);
    }

    private static final List<String> BAD_NAMES = List.of("a'b", "a\"b", "a;b", "a b", "x".repeat(64), "",
            "a$(id)", "a`id`", "a\nb", "a\0b", "../a", "a/b", "é");
    private static final List<String> BAD_DIRS = List.of("data", "./data", "", "/", "/srv/../etc",
            "/srv/polar/..", "/srv/./x", "/srv/a\nb", "/srv/a\tb", "/srv/a\u007fb", "~/data");
    private static final List<String> BAD_CIDRS = List.of("0.0.0.0/0", "::/0", "0.0.0.0/00", "10.0.0.0/33",
            "10.0.0.1/8", "10.0.0.0", "not-a-cidr", "", "10.0.0.0/8 trust", "10.0.0.0/8\nhost all all all trust",
            "256.0.0.1/32", "10.0.0.0/-1", "all", "samenet", "10.0.0.0/8;", "::1/129");
    private static final List<String> BAD_PASSWORDS = List.of("", "short", "pass\nword123", "pass\rword123",
            "pass\0word123", "\u0007bellpassword", "tab\tpassword", "esc\u001b[2Jpassword", "del\u007fpassword");
    private static final List<Integer> BAD_PORTS = List.of(0, 65536, -1, 70000, Integer.MIN_VALUE);
    private static final List<Integer> BAD_HOST_IDS = List.of(0, 513, -1, 1000);

    static Stream<Arguments> hostile() {
        List<Arguments> all = new ArrayList<>();
        Consumer<Object[]> add = a -> all.add(Arguments.of(a));
        for (String n : BAD_NAMES) {
            add.accept(new Object[]{"SlotName.of " + show(n), (Executable) () -> SlotName.of(n)});
            add.accept(new Object[]{"NodeSpec.name " + show(n), (Executable) () -> nodeSpec().name(n)});
            add.accept(new Object[]{"ClusterSpec.primary name " + show(n), (Executable) () -> ClusterSpec.builder()
                    .primary(n, "127.0.0.1", 5432, OK_DIR)});
            add.accept(new Object[]{"ClusterSpec.replicationUser " + show(n),
                    (Executable) () -> cluster().replicationUser(n)});
            add.accept(new Object[]{"ClusterSpec.osUser " + show(n), (Executable) () -> cluster().osUser(n)});
            add.accept(new Object[]{"ClusterScaler.removeNode " + show(n), (Executable) () -> {
                try (ClusterScaler s = ClusterScaler.forCluster(cluster().build())) {
                    s.removeNode(n, RemoveOptions.defaults());
                }
            }});
            add.accept(new Object[]{"Command.asUser " + show(n), (Executable) () -> Command.of("true").asUser(n)});
            add.accept(new Object[]{"NodeConfig.primarySlotName " + show(n),
                    (Executable) () -> NodeConfig.builder().primarySlotName(n)});
            add.accept(new Object[]{"PolarInitdb.using osUser " + show(n), (Executable) () -> PolarInitdb.using(PG, n)});
            add.accept(new Object[]{"SharedStorage.localFileSystem osUser " + show(n),
                    (Executable) () -> SharedStorage.localFileSystem(Path.of("/srv/shared"), n)});
        }
        add.accept(new Object[]{"ClusterSpec.osUser root", (Executable) () -> cluster().osUser("root")});
        for (String n : List.of("a b", "a\"b", "a,b", "a#b", "a\nb", "", "a\tb")) {
            add.accept(new Object[]{"HbaRule.user " + show(n), (Executable) () -> HbaRule.replication(n, "10.0.0.0/8")});
        }
        // not valid as node names (they give the slot name), though valid elsewhere
        for (String n : List.of("A1", "1abc", "a-", "-a", "a.b")) {
            add.accept(new Object[]{"NodeSpec.name " + show(n), (Executable) () -> nodeSpec().name(n)});
            add.accept(new Object[]{"ClusterSpec.replicationUser " + show(n),
                    (Executable) () -> cluster().replicationUser(n)});
        }
        // a node name may hold '-' (replica-2), a role name may not
        add.accept(new Object[]{"ClusterSpec.replicationUser \"a-b\"", (Executable) () -> cluster().replicationUser("a-b")});
        for (String d : BAD_DIRS) {
            add.accept(new Object[]{"NodeSpec.dataDirectory " + show(d), (Executable) () -> nodeSpec().dataDirectory(Path.of(d))});
            add.accept(new Object[]{"ClusterSpec.primary dir " + show(d), (Executable) () -> ClusterSpec.builder()
                    .primary("primary", "127.0.0.1", 5432, Path.of(d))});
            add.accept(new Object[]{"ClusterSpec.templateCache " + show(d), (Executable) () -> cluster().templateCache(Path.of(d))});
            add.accept(new Object[]{"PostgresNode.dataDirectory " + show(d), (Executable) () -> node().dataDirectory(Path.of(d))});
            add.accept(new Object[]{"SharedStorage.localFileSystem " + show(d),
                    (Executable) () -> SharedStorage.localFileSystem(Path.of(d), "postgres")});
            add.accept(new Object[]{"PolarInitdb.command " + show(d), (Executable) () -> PolarInitdb.using(PG, "postgres")
                    .command(Path.of(d), SharedStorage.localFileSystem(Path.of("/srv/shared"), "postgres"), "replica")});
        }
        // shell metacharacters are refused where the path reaches polar-initdb.sh, which does not quote
        for (String d : List.of("/srv/a b", "/srv/$(reboot)", "/srv/`id`", "/srv/a;b", "/srv/a'b", "/srv/a\"b")) {
            add.accept(new Object[]{"PolarInitdb.command " + show(d), (Executable) () -> PolarInitdb.using(PG, "postgres")
                    .command(Path.of(d), SharedStorage.localFileSystem(Path.of("/srv/shared"), "postgres"), "replica")});
            add.accept(new Object[]{"SharedStorage.localFileSystem " + show(d),
                    (Executable) () -> SharedStorage.localFileSystem(Path.of(d), "postgres").initdbDirectory()});
            add.accept(new Object[]{"ClusterScaler.addReplica " + show(d), (Executable) () -> {
                try (ClusterScaler s = ClusterScaler.forCluster(cluster().sharedStorage(
                        SharedStorage.localFileSystem(Path.of("/srv/shared"), "postgres")).build())) {
                    // refused for the path, not for the unreachable primary
                    throw assertThrows(IllegalArgumentException.class,
                            () -> s.addReplica(nodeSpec().dataDirectory(Path.of(d)).build()));
                }
            }});
        }
        add.accept(new Object[]{"PolarInitdb.command role", (Executable) () -> PolarInitdb.using(PG, "postgres")
                .command(OK_DIR, SharedStorage.localFileSystem(Path.of("/srv/shared"), "postgres"), "replica; rm -rf /")});
        add.accept(new Object[]{"PolarInitdb.withTimeout 0", (Executable) () -> PolarInitdb.using(PG, "postgres")
                .withTimeout(Duration.ZERO)});
        for (int p : BAD_PORTS) {
            add.accept(new Object[]{"Port.of " + p, (Executable) () -> Port.of(p)});
            add.accept(new Object[]{"NodeSpec.port " + p, (Executable) () -> nodeSpec().port(p)});
            add.accept(new Object[]{"ClusterSpec.primary port " + p, (Executable) () -> ClusterSpec.builder()
                    .primary("primary", "127.0.0.1", p, OK_DIR)});
            add.accept(new Object[]{"PostgresNode.port " + p, (Executable) () -> node().port(p)});
            add.accept(new Object[]{"ConnInfo.port " + p, (Executable) () -> ConnInfo.builder().port(p)});
            add.accept(new Object[]{"SshTarget.port " + p, (Executable) () -> SshTarget.builder().port(p)});
            add.accept(new Object[]{"NodeConfig.port " + p, (Executable) () -> NodeConfig.builder().port(p)});
        }
        for (int h : BAD_HOST_IDS) {
            add.accept(new Object[]{"HostId.of " + h, (Executable) () -> HostId.of(h)});
            add.accept(new Object[]{"NodeSpec.hostId " + h, (Executable) () -> nodeSpec().hostId(h)});
            add.accept(new Object[]{"NodeConfig.polarHostId " + h, (Executable) () -> NodeConfig.builder().polarHostId(h)});
        }
        for (String c : BAD_CIDRS) {
            add.accept(new Object[]{"HbaRule.replication " + show(c), (Executable) () -> HbaRule.replication("repl", c)});
            add.accept(new Object[]{"HbaRule.address " + show(c), (Executable) () -> HbaRule.builder().address(c)});
            add.accept(new Object[]{"ClusterSpec.allowReplicationFrom " + show(c),
                    (Executable) () -> cluster().allowReplicationFrom(c)});
        }
        for (String pw : BAD_PASSWORDS) {
            add.accept(new Object[]{"ClusterSpec.superuserPassword " + show(pw), (Executable) () -> cluster().superuserPassword(pw)});
            add.accept(new Object[]{"ClusterSpec.replicationPassword " + show(pw),
                    (Executable) () -> cluster().replicationPassword(pw)});
            add.accept(new Object[]{"PostgresNode.password " + show(pw), (Executable) () -> node().password(pw)});
        }
        for (String pw : List.of("pass\nword123", "pass\0word123")) {
            add.accept(new Object[]{"ConnInfo.password " + show(pw), (Executable) () -> ConnInfo.builder().password(pw)});
        }
        for (String[] kv : new String[][]{{"work_mem\nfoo", "1"}, {"work mem", "1"}, {"x = 1 #", "1"}, {"", "1"},
                {"work_mem", "1\nshared_preload_libraries='evil'"}, {"work_mem", "1\0"}, {"a'b", "1"},
                {"work_mem", "1\r"}, {"include", "/etc/passwd"}, {"include_dir", "/tmp"}}) {
            add.accept(new Object[]{"NodeConfig.set " + show(kv[0]) + "=" + show(kv[1]),
                    (Executable) () -> NodeConfig.builder().role(NodeRole.PRIMARY).set(kv[0], kv[1])});
        }
        for (String[] kv : new String[][]{{"host x", "1"}, {"", "1"}, {"passfile", "a\nb"}, {"host", "a\0b"},
                {"sslmode", "a\nb"}}) {
            add.accept(new Object[]{"ConnInfo.option " + show(kv[0]) + "=" + show(kv[1]),
                    (Executable) () -> ConnInfo.builder().option(kv[0], kv[1]).build()});
        }
        for (String h : List.of("a b", "a;b", "-oProxyCommand=sh", "", "a'b", "a$(id)", "a\nb")) {
            add.accept(new Object[]{"ClusterSpec.host " + show(h), (Executable) () -> cluster().host(h, RECORDER)});
            add.accept(new Object[]{"NodeSpec.host " + show(h), (Executable) () -> nodeSpec().host(h)});
            add.accept(new Object[]{"SshTarget.host " + show(h), (Executable) () -> SshTarget.builder().host(h)});
            add.accept(new Object[]{"ConnInfo.host " + show(h), (Executable) () -> ConnInfo.builder().host(h).build()});
        }
        add.accept(new Object[]{"Command.of NUL", (Executable) () -> Command.of("echo", "a\0b")});
        add.accept(new Object[]{"Command.of blank program", (Executable) () -> Command.of(" ")});
        add.accept(new Object[]{"Command.of empty argv", (Executable) () -> Command.of(List.of())});
        add.accept(new Object[]{"Command.withEnv bad name", (Executable) () -> Command.of("true").withEnv("A=B", "x")});
        add.accept(new Object[]{"Command.withEnv NUL value", (Executable) () -> Command.of("true").withEnv("A", "x\0")});
        add.accept(new Object[]{"Command.withTimeout 0", (Executable) () -> Command.of("true").withTimeout(Duration.ZERO)});
        add.accept(new Object[]{"Command.withTimeout negative",
                (Executable) () -> Command.of("true").withTimeout(Duration.ofSeconds(-1))});
        add.accept(new Object[]{"PolarStorage.localFs relative", (Executable) () -> PolarStorage.localFs(Path.of("rel"))});
        add.accept(new Object[]{"PolarStorage.Pfs dir ..", (Executable) () -> new PolarStorage.Pfs("disk", "nvme1n1", "a/../b")});
        add.accept(new Object[]{"PolarStorage.Pfs cluster ;", (Executable) () -> new PolarStorage.Pfs("d;rm", "nvme1n1", "a")});
        add.accept(new Object[]{"ClusterSpec.lockTimeout 0", (Executable) () -> cluster().lockTimeout(Duration.ZERO)});
        add.accept(new Object[]{"ClusterSpec.verifyTimeout negative",
                (Executable) () -> cluster().verifyTimeout(Duration.ofSeconds(-5))});
        return all.stream();
    }

    private static String show(String s) {
        StringBuilder b = new StringBuilder("'");
        for (char c : s.length() > 20 ? (s.substring(0, 20) + "…").toCharArray() : s.toCharArray()) {
            b.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return b.append("'").toString();
    }

    @BeforeEach
    void clear() {
        RECORDER.commands.clear();
    }

    @AfterAll
    static void report() {
        System.out.println("HostileInputTest: " + TRIED.get() + " hostile inputs tried, all refused before any command");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void refusedBeforeAnyCommandRuns(String what, Executable call) {
        TRIED.incrementAndGet();
        Throwable t = assertThrows(Throwable.class, call, what + " was accepted");
        assertTrue(t instanceof IllegalArgumentException || t instanceof PolarException,
                what + ": expected IllegalArgumentException or a PolarException, got " + t);
        assertFalse(t.getMessage() == null || t.getMessage().isBlank(), what + ": the message says why");
        assertEquals(List.of(), RECORDER.commands, what + ": ran commands");
    }

    @Test
    void theCorpusIsLarge() {
        assertTrue(hostile().count() >= 50, "at least 50 hostile inputs");
    }

    /**
     * Where a standby's path may hold shell metacharacters (pg_basebackup, pg_ctl and friends take
     * it as one argument), it never reaches a shell unquoted: no {@code sh -c} script contains it,
     * and the one option string {@code pg_ctl} hands to /bin/sh holds it single-quoted.
     */
    @Test
    void acceptedPathsReachCommandsOnlyAsWholeArguments() {
        for (String d : List.of("/srv/a b", "/srv/$(touch pwned)", "/srv/`id`", "/srv/a;b", "/srv/a'b", "/srv/a\"b")) {
            Path dir = Path.of(d);
            PostgresNode n = node().dataDirectory(dir).build();
            RECORDER.commands.clear();
            n.status();
            n.createDirectory(dir);
            n.writeFile("polarscale.pgpass", "x");
            n.fileExists("PG_VERSION");
            n.deleteDataDirectory();
            try (ClusterScaler s = ClusterScaler.forCluster(cluster().build())) {
                String plan = s.planStandby(nodeSpec().dataDirectory(dir).build()).toString();
                String start = n.serverCommand("pg_ctl", "start", "-D", d, "-o", "-p 5433 -k " + ShellQuoting.quote(d))
                        .toString();
                assertTrue(plan.contains(d), plan);
                assertTrue(start.contains(ShellQuoting.quote(d)), start);
            }
            assertFalse(RECORDER.commands.isEmpty());
            for (Command c : RECORDER.commands) {
                List<String> argv = c.argv();
                int script = argv.indexOf("-c");
                if (script >= 0 && argv.get(0).endsWith("sh")) {
                    assertFalse(argv.get(script + 1).contains(d), "path inside a shell script: " + argv);
                }
                boolean whole = argv.stream().anyMatch(a -> a.equals(d) || a.startsWith(d + "/"));
                if (argv.stream().anyMatch(a -> a.contains(d))) {
                    assertTrue(whole, "path only as a whole argument: " + argv);
                }
            }
        }
    }

    @Test
    void roleNamesInHbaRulesAreQuotedNotInterpreted() {
        // pg_hba.conf gives no meaning to these characters: the name stays one token of the user field
        for (String user : List.of("a;b", "A1", "a$(id)", "a`id`", "é")) {
            String line = HbaRule.replication(user, "10.0.0.0/8").render();
            assertEquals(List.of("host", "replication", user, "10.0.0.0/8", "scram-sha-256"),
                    List.of(line.split(" ")), line);
        }
        // keywords are quoted so that they stay names
        assertEquals("host replication \"all\" 10.0.0.0/8 scram-sha-256",
                HbaRule.replication("all", "10.0.0.0/8").render());
    }

    @Test
    void quotesInGucValuesAreEscapedNotInterpreted() {
        String rendered = NodeConfig.builder().role(NodeRole.PRIMARY).set("application_name", "x' , shared_preload_libraries='evil")
                .build().render();
        assertTrue(rendered.contains("application_name='x'' , shared_preload_libraries=''evil'"), rendered);
        assertEquals(1, rendered.lines().filter(l -> l.contains("shared_preload_libraries")).count(), rendered);
    }

    @Test
    void aRecordingExecutorWouldHaveSeenAnyCommand() {
        // the harness itself: a command that does run is recorded
        node().build().status();
        if (RECORDER.commands.isEmpty()) {
            fail("the recorder records nothing: the other tests prove nothing");
        }
    }
}
