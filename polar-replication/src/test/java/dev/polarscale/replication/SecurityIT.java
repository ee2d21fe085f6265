package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;
import dev.polarscale.core.HbaRule;
import dev.polarscale.core.PostgresNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The security defaults on a deployed cluster: replication only through the dedicated role,
 * with scram-sha-256, from the replicas' addresses; no {@code trust}, no {@code 0.0.0.0/0};
 * owner-only files; and no password in anything a full run logs or prints. Strict SSH host-key
 * checking is tested in polar-core's SshExecutorIT (unknownHostKeyIsRejectedByDefault,
 * changedHostKeyIsRejected).
 */
class SecurityIT {
    private static final String SUPERUSER_PW = "Sup3r-s3cret-" + Long.toHexString(System.nanoTime());
    private static final String REPL_PW = "R3pl-s3cret-" + Long.toHexString(System.nanoTime());
    private static Path base;
    private static ClusterSpec spec;
    private static ClusterScaler scaler;

    @BeforeAll
    static void deploy() throws IOException {
        base = Files.createTempDirectory("polarscale-security-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        spec = ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Procs.freePort(), base.resolve("primary"))
                .superuserPassword(SUPERUSER_PW).replicationPassword(REPL_PW)
                .verifyTimeout(Duration.ofSeconds(30)).build();
        scaler = ClusterScaler.forCluster(spec);
        scaler.deployPrimary();
        scaler.addStandby(NodeSpec.builder().name("safe1").port(Procs.freePort())
                .dataDirectory(base.resolve("safe1")).build());
    }

    @AfterAll
    static void tearDown() {
        if (scaler != null) {
            scaler.removeNode("safe1", RemoveOptions.defaults().withDeleteData(true));
            PostgresNode primary = scaler.primaryNode();
            scaler.close();
            primary.stop();
        }
        Executors.local().run(Command.of("rm", "-rf", "--", base.toString()));
    }

    @Test
    void replicationOnlyThroughTheRoleWithScramFromTheReplicasAddress() throws SQLException {
        List<String> rules = new ArrayList<>();
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT type, array_to_string(database, ','), array_to_string(user_name, ','), "
                     + "coalesce(address, ''), coalesce(netmask, ''), auth_method, coalesce(error, '') "
                     + "FROM pg_hba_file_rules ORDER BY line_number")) {
            while (rs.next()) {
                String type = rs.getString(1);
                String db = rs.getString(2);
                String user = rs.getString(3);
                String address = rs.getString(4);
                String netmask = rs.getString(5);
                String method = rs.getString(6);
                rules.add(String.join(" ", type, db, user, address, netmask, method));
                assertEquals("", rs.getString(7), "no hba error");
                assertFalse(method.equals("trust"), "no trust: " + rules);
                assertFalse(address.equals("all") || address.equals("0.0.0.0") || address.equals("::")
                        || netmask.equals("0.0.0.0"), "no rule from anywhere: " + rules);
                if (type.startsWith("host")) {
                    assertEquals("scram-sha-256", method, "TCP only with scram: " + rules);
                } else {
                    assertEquals("peer", method, "local socket by OS user only: " + rules);
                }
            }
        }
        System.out.println("pg_hba_file_rules: " + rules);
        assertTrue(rules.contains("host replication polarscale_repl 127.0.0.1 255.255.255.255 scram-sha-256"),
                rules.toString());
        try (Connection c = scaler.primaryNode().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT rolreplication, rolsuper, rolpassword LIKE 'SCRAM-SHA-256$%', "
                     + "(SELECT count(*) FROM pg_stat_replication WHERE usename = 'polarscale_repl' "
                     + "AND application_name = 'safe1') FROM pg_authid WHERE rolname = 'polarscale_repl'")) {
            assertTrue(rs.next());
            assertTrue(rs.getBoolean(1), "REPLICATION");
            assertFalse(rs.getBoolean(2), "not a superuser");
            assertTrue(rs.getBoolean(3), "stored as a SCRAM verifier");
            assertEquals(1, rs.getInt(4), "the standby streams as polarscale_repl");
        }
    }

    @Test
    void openingUpNeedsTheInsecureMethodsByName() {
        assertThrows(IllegalArgumentException.class, () -> HbaRule.replication("polarscale_repl", "0.0.0.0/0"));
        assertThrows(IllegalArgumentException.class, () -> ClusterSpec.builder().allowReplicationFrom("0.0.0.0/0"));
        assertThrows(IllegalArgumentException.class, () -> HbaRule.replication("polarscale_repl", "::/0"));
        String open = HbaRule.builder().replicationDatabase().user("polarscale_repl").fromAnywhereInsecure()
                .build().render();
        assertTrue(open.contains("0.0.0.0/0") || open.contains("all"), open);
    }

    @Test
    void filesTheLibraryWritesAreOwnerOnly() throws IOException {
        Path primary = base.resolve("primary");
        Path standby = base.resolve("safe1");
        List<String> checked = new ArrayList<>();
        for (Path dir : List.of(primary, standby)) {
            assertMode(dir, "rwx------", checked);
            for (String f : List.of("postgresql.conf", "pg_hba.conf")) {
                assertMode(dir.resolve(f), "rw-------", checked);
            }
        }
        assertMode(standby.resolve("polarscale.pgpass"), "rw-------", checked);
        assertMode(standby.resolve("standby.signal"), "rw-------", checked);
        PosixFileAttributes pgpass = Files.readAttributes(standby.resolve("polarscale.pgpass"),
                PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        assertEquals(scaler.primaryNode().osUser().orElse(System.getProperty("user.name")), pgpass.owner().getName());
        // nothing in either data directory is readable or writable by group or others
        List<String> open = new ArrayList<>();
        for (Path dir : List.of(primary, standby)) {
            try (Stream<Path> all = Files.walk(dir)) {
                // the server's Unix socket is 0777 by PostgreSQL's default; the 0700 directory guards it
                all.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                        || Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).forEach(p -> {
                    try {
                        String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
                        if (!mode.endsWith("------")) {
                            open.add(p + " " + mode);
                        }
                    } catch (IOException e) {
                        // a file that vanished (pg_stat_tmp) while walking
                    }
                });
            }
        }
        System.out.println("owner-only: " + checked);
        assertEquals(List.of(), open, "group/other bits in data directories");
    }

    private static void assertMode(Path p, String mode, List<String> checked) throws IOException {
        assertEquals(mode, PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
        checked.add(base.relativize(p) + " " + mode);
    }

    @Test
    void noPasswordInAnythingAFullRunLogsOrPrints() throws Exception {
        Path dir = Files.createTempDirectory(base, "secrets-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        Path log = dir.resolve("slf4j.log");
        Path out = dir.resolve("stdout.txt");
        String superPw = "Sup3r-" + Long.toHexString(System.nanoTime()) + "-secret";
        String replPw = "R3pl-" + Long.toHexString(System.nanoTime()) + "-secret";
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                "-Dorg.slf4j.simpleLogger.log.dev.polarscale=debug",
                "-Dorg.slf4j.simpleLogger.logFile=" + log,
                "-cp", System.getProperty("java.class.path"), SecretsRunMain.class.getName(),
                dir.toString(), Integer.toString(Procs.freePort()), Integer.toString(Procs.freePort()))
                .redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("POLARSCALE_SUPERUSER_PASSWORD", superPw);
        pb.environment().put("POLARSCALE_REPLICATION_PASSWORD", replPw);
        Process child = pb.start();
        assertTrue(child.waitFor(4, TimeUnit.MINUTES), "run finished");
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        String logged = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(stdout.contains("DONE"), stdout);
        assertTrue(logged.contains("DEBUG"), "DEBUG output was captured");
        assertTrue(stdout.contains("injected failure"), "the failure's stack trace is in the output");
        List<String> hits = new ArrayList<>();
        // the servers' own logs count too (every file under pg_log / log and the startup logs)
        List<Path> files = new ArrayList<>(List.of(log, out));
        try (Stream<Path> all = Files.walk(dir)) {
            all.filter(Files::isRegularFile).filter(p -> p.toString().contains("/pg_log/") || p.toString().contains("/log/")
                    || p.getFileName().toString().endsWith(".log")).forEach(files::add);
        }
        for (Path f : files.stream().distinct().toList()) {
            String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
            for (String pw : List.of(superPw, replPw)) {
                if (text.contains(pw)) {
                    hits.add(f + " contains " + (pw.equals(superPw) ? "the superuser" : "the replication")
                            + " password");
                }
            }
        }
        long lines = logged.lines().count() + stdout.lines().count();
        System.out.printf("secrets: %d files, %d lines of log and output (%d DEBUG), %d password hits%n",
                files.stream().distinct().count(), lines, logged.lines().filter(l -> l.contains("DEBUG")).count(),
                hits.size());
        assertEquals(List.of(), hits);
    }

    /**
     * A caller who exported {@code PGPASSWORD} (for psql, say) runs the scaler: the JVM's
     * environment must not reach the servers it starts, or the follower's walreceiver sends that
     * password instead of its passfile's (found by a platform's try-out after adopt).
     */
    @Test
    void theCallersLibpqVariablesDoNotReachTheServers() throws Exception {
        Path out = base.resolve("libpq-env-child.out");
        NodeSpec node = NodeSpec.builder().name("env_jvm").port(Procs.freePort())
                .dataDirectory(base.resolve("env_jvm")).build();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), AddStandbyMain.class.getName(),
                Integer.toString(spec.primaryPort().value()), spec.primaryDataDirectory().toString(),
                node.name(), Integer.toString(node.port().value()), node.dataDirectory().toString())
                .redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("POLARSCALE_SUPERUSER_PASSWORD", SUPERUSER_PW);
        pb.environment().put("POLARSCALE_REPLICATION_PASSWORD", REPL_PW);
        pb.environment().put("PGPASSWORD", "not-the-replication-password");
        pb.environment().put("PGPASSFILE", "/nonexistent/pgpass");
        pb.environment().put("PGSSLMODE", "require");  // the servers here have no SSL: it would fail at once
        Process child = pb.start();
        assertTrue(child.waitFor(3, TimeUnit.MINUTES), "child JVM finished");
        String childOut = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(childOut.contains("RESULT ok"), childOut);
        assertStreamingAndRemove(node.name());
    }

    /**
     * The same through a host whose shell exports {@code PGPASSWORD} (a remote login profile):
     * every command arrives with it, and the server still starts without it.
     */
    @Test
    void aHostsExportedPgpasswordDoesNotReachTheServers() {
        CommandExecutor local = Executors.local();
        CommandExecutor profiled = new CommandExecutor() {
            @Override
            public String host() {
                return local.host();
            }

            @Override
            public CommandResult execute(Command command) {
                Command c = command;
                for (String[] kv : new String[][] {{"PGPASSWORD", "not-the-replication-password"},
                        {"PGPASSFILE", "/nonexistent/pgpass"}}) {
                    c = c.environment().containsKey(kv[0]) ? c : c.withEnv(kv[0], kv[1]);
                }
                return local.execute(c);
            }
        };
        try (ClusterScaler s = ClusterScaler.forCluster(spec.toBuilder().host("127.0.0.1", profiled).build())) {
            s.addStandby(NodeSpec.builder().name("env_host").port(Procs.freePort())
                    .dataDirectory(base.resolve("env_host")).build());
        }
        assertStreamingAndRemove("env_host");
    }

    private static void assertStreamingAndRemove(String node) {
        ClusterStatus status = scaler.status();
        assertTrue(status.node(node).orElseThrow().healthy(), status.toString());
        scaler.removeNode(node, RemoveOptions.defaults().withDeleteData(true));
    }
}
