package dev.polarscale.core;

import dev.polarscale.core.internal.conf.ManagedBlock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.postgresql.PGConnection;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What {@link NodeConfig} writes is what a real PostgreSQL 15 server reads: each setting is merged
 * into the {@code postgresql.conf} that initdb generated and read back from the server
 * ({@code current_setting}, {@code pg_settings}, {@code pg_file_settings}, or {@code postgres -C}
 * for settings a running primary cannot take). One initdb for the class; each test writes its own
 * block over whatever block the file holds.
 */
class NodeConfigIT {
    /** The hostile values of {@code NodeConfigTest.hostileValuesAreReadBackExactly}, plus unicode outside the BMP. */
    private static final List<String> HOSTILE = List.of(
            "it's", "''", "'", "back\\slash", "\\", "\\\\", "ends with backslash\\", "tab\there", "\t",
            "hash # not a comment", "a = b", "=", "#", "%m [%p] ", "\\n stays literal", "\\012", "\\x41",
            "'; shared_preload_libraries='evil", "é ü 中文 ✓ 😀", "", " leading and trailing ", "$libdir/x");
    private static final String PASSWORD = "it's a \\ p@ss#w=rd ü";

    private static Path base;
    private static PostgresNode node;
    private static String initdbConf;

    @BeforeAll
    static void initdb() throws IOException {
        base = TestDirs.traversableTempDir("config-it");
        node = PostgresNode.builder().installation(PgBinaries.locate())
                .name("config_it").dataDirectory(base.resolve("data"))
                .port(TestDirs.freePort()).build();
        node.initdb();
        initdbConf = node.readFile("postgresql.conf");
    }

    @AfterAll
    static void cleanUp() {
        TestDirs.stopAndDelete(node, base);
    }

    /** Every typed setting plain PostgreSQL knows, with values that differ from the defaults. */
    private static NodeConfig.Builder primary() {
        NodeConfig.Builder b = NodeConfig.builder().role(NodeRole.PRIMARY)
                .port(node.port())
                .listenAddresses("127.0.0.1", "127.0.0.2")
                .maxConnections(37)
                .loggingCollector(true)
                .logLinePrefix(NodeConfig.DEFAULT_LOG_LINE_PREFIX + "[%a] 'q' \\ # = ")
                .logDirectory("pg log ü")
                .maxWalSenders(7)
                .maxReplicationSlots(9)
                .walLevel(WalLevel.LOGICAL)
                .hotStandby(false)
                .set("application_name", "polarscale it's #1 = \\ ok")
                .set("work_mem", "4321kB")
                .set("search_path", "\"$user\", public, \"we'ird # sch=ema\"")
                .set("polarscale_test.value", "it's a \\ back\tslash # not a comment = x ü 日本");
        for (int i = 0; i < HOSTILE.size(); i++) {
            b.set("polarscale_test.v" + i, HOSTILE.get(i));
        }
        return b;
    }

    @Test
    void everySettingIsReadBackExactlyByARunningServer() throws SQLException {
        NodeConfig cfg = primary().build();
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("port", Integer.toString(node.port().value()));
        expected.put("logging_collector", "on");
        expected.put("log_line_prefix", "%p\t%r\t%u\t%m\t[%a] 'q' \\ # = ");
        expected.put("log_directory", "pg log ü");
        expected.put("listen_addresses", "127.0.0.1,127.0.0.2");
        expected.put("max_connections", "37");
        expected.put("max_wal_senders", "7");
        expected.put("max_replication_slots", "9");
        expected.put("wal_level", "logical");
        expected.put("hot_standby", "off");
        expected.put("application_name", "polarscale it's #1 = \\ ok");
        expected.put("work_mem", "4321kB");
        expected.put("search_path", "\"$user\", public, \"we'ird # sch=ema\"");
        expected.put("polarscale_test.value", "it's a \\ back\tslash # not a comment = x ü 日本");
        for (int i = 0; i < HOSTILE.size(); i++) {
            expected.put("polarscale_test.v" + i, HOSTILE.get(i));
        }
        assertEquals(expected, cfg.values(), "NodeConfig.values() is the test's expectation, written by hand");

        writeConfig(cfg);
        restart();

        String conf = node.dataDirectory().resolve("postgresql.conf").toString();
        int blockStart = lineOf(node.readFile("postgresql.conf"), ManagedBlock.BEGIN);
        try (Connection c = node.connect()) {
            assertEquals(0, count(c, "SELECT count(*) FROM pg_file_settings WHERE error IS NOT NULL"),
                    "the server found errors in postgresql.conf");
            List<Executable> checks = new ArrayList<>();
            for (Map.Entry<String, String> e : expected.entrySet()) {
                String name = e.getKey();
                String value = e.getValue();
                String fromFile = appliedFileSetting(c, name);
                checks.add(() -> assertEquals(value, fromFile, name + " in pg_file_settings"));
                if (!name.equals("application_name")) {
                    // the session's application_name is the one the JDBC client sent
                    String live = currentSetting(c, name);
                    checks.add(() -> assertEquals(value, live, name + " from current_setting"));
                }
                if (!name.contains(".")) {
                    String[] source = settingSource(c, name);
                    String wantSource = switch (name) {
                        case "port" -> "command line";
                        case "application_name" -> "session"; // pgjdbc runs SET application_name
                        default -> "configuration file";
                    };
                    checks.add(() -> assertEquals(wantSource, source[0], name + " pg_settings.source"));
                    if (wantSource.equals("configuration file")) {
                        checks.add(() -> assertEquals(conf, source[1], name + " pg_settings.sourcefile"));
                        checks.add(() -> assertTrue(Integer.parseInt(source[2]) > blockStart,
                                name + " comes from line " + source[2] + ", not from the managed block after line "
                                        + blockStart));
                    }
                }
            }
            assertAll(checks);
        }
    }

    @Test
    void renderingAgainKeepsOneBlockAndTheServerReadsTheLatestValues() throws SQLException {
        NodeConfig first = primary().set("polarscale_test.removed", "soon gone").build();
        NodeConfig second = first.toBuilder()
                .maxConnections(41)
                .set("work_mem", "5555kB")
                .set("polarscale_test.value", "second 'value' \\ ü")
                .unset("polarscale_test.removed")
                .build();

        writeConfig(first);
        restart();
        try (Connection c = node.connect()) {
            assertEquals("soon gone", currentSetting(c, "polarscale_test.removed"));
        }
        writeConfig(second);
        String once = node.readFile("postgresql.conf");
        writeConfig(second);
        String twice = node.readFile("postgresql.conf");

        assertEquals(once, twice, "writing the same config again changes nothing");
        assertEquals(1, occurrences(twice, ManagedBlock.BEGIN), twice);
        assertEquals(1, occurrences(twice, ManagedBlock.END), twice);
        assertEquals(initdbConf, ManagedBlock.remove(twice, "postgresql.conf"), "initdb's lines are kept as they were");
        assertTrue(twice.endsWith(ManagedBlock.BEGIN + "\n" + second.render() + ManagedBlock.END + "\n"));

        restart();
        try (Connection c = node.connect()) {
            assertAll(
                    () -> assertEquals("41", currentSetting(c, "max_connections")),
                    () -> assertEquals("5555kB", currentSetting(c, "work_mem")),
                    () -> assertEquals("second 'value' \\ ü", currentSetting(c, "polarscale_test.value")),
                    () -> assertNull(currentSetting(c, "polarscale_test.removed"), "an unset setting is gone"),
                    () -> assertEquals(0, count(c, "SELECT count(*) FROM pg_file_settings WHERE error IS NOT NULL")));
        }
    }

    /**
     * A PRIMARY may not carry primary_conninfo or primary_slot_name, so the STANDBY settings are
     * read by {@code postgres -C} from a second config file in the data directory.
     */
    @Test
    void standbySettingsAreReadBackByPostgres() {
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> primary()
                .primarySlotName("standby_1").build());
        assertTrue(refused.getMessage().contains("a PRIMARY must not set primary_slot_name"), refused.getMessage());

        NodeConfig standby = standbyConfig();
        Map<String, String> read = new LinkedHashMap<>();
        for (String name : standby.values().keySet()) {
            read.put(name, postgresC(name, "standby.conf"));
        }
        assertEquals(standby.values(), read);
        assertEquals(conninfoToPrimary().render(), read.get("primary_conninfo"));
        assertEquals("standby_1", read.get("primary_slot_name"));
        assertEquals("on", read.get("hot_standby"));
    }

    /**
     * libpq ({@code psql}) connects with the primary_conninfo the server read, hostile password
     * included. The embedded binaries have no psql: skipped there, with the reason.
     */
    @Test
    void primaryConninfoTheServerReadsIsUsableByLibpq() throws SQLException {
        PgInstallation binaries = PgBinaries.locate();
        assumeTrue(binaries.has("psql"), () -> "the server binaries " + binaries.binDir()
                + " have no psql (the embedded ones do not); install postgresql-15 to run this");
        standbyConfig();
        String conninfo = postgresC("primary_conninfo", "standby.conf");
        node.start();
        try (Connection c = node.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE conninfo_test LOGIN");
            c.unwrap(PGConnection.class).alterUserPassword("conninfo_test", PASSWORD.toCharArray(), "scram-sha-256");
        }
        try {
            CommandResult psql = node.executor().run(node.serverCommand("psql", "-X", "-A", "-t",
                            "-d", conninfo,
                            "-c", "SELECT current_user || '|' || current_setting('application_name')")
                    .withSecret(PASSWORD).withTimeout(Duration.ofSeconds(30)));
            assertEquals("conninfo_test|standby 1 'quoted'\n", psql.stdout());
        } finally {
            try (Connection c = node.connect(); Statement s = c.createStatement()) {
                s.execute("DROP ROLE conninfo_test");
            }
        }
    }

    private static ConnInfo conninfoToPrimary() {
        return ConnInfo.builder().host("127.0.0.1").port(node.port()).user("conninfo_test")
                .password(PASSWORD).dbname("postgres").applicationName("standby 1 'quoted'").build();
    }

    /** Writes {@code standby.conf}: initdb's file with a STANDBY block following this node. */
    private static NodeConfig standbyConfig() {
        NodeConfig standby = NodeConfig.standby(node.port(), conninfoToPrimary(), SlotName.of("standby_1"))
                .maxConnections(37)
                .set("polarscale_test.value", "standby \\ 'value' \t ü")
                .build();
        node.writeFile("standby.conf", standby.mergeInto(initdbConf));
        return standby;
    }

    /**
     * NodeConfig builds polar_* settings for any role (they are what PolarDB needs); plain
     * PostgreSQL 15 refuses the file: every polar_* name is an unknown parameter, except
     * {@code polar_vfs.localfs_mode}, whose dot makes it a custom placeholder that any server takes.
     */
    @Test
    void plainPostgresRejectsThePolarSettings() {
        NodeConfig polar = NodeConfig.primary(node.port(), HostId.of(1), PolarStorage.localFs(base.resolve("shared")))
                .build();
        List<Setting> polarOnly = Stream.of(Setting.values()).filter(s -> polar.value(s).isPresent())
                .filter(Setting::isPolarDbOnly).toList();
        assertEquals(List.of(Setting.POLAR_HOSTID, Setting.POLAR_ENABLE_SHARED_STORAGE_MODE, Setting.POLAR_DISK_NAME,
                Setting.POLAR_DATADIR, Setting.POLAR_VFS_LOCALFS_MODE), polarOnly);
        node.writeFile("polar.conf", polar.mergeInto(initdbConf));

        CommandResult r = node.executor().execute(postgresCCommand("port", "polar.conf"));
        assertNotEquals(0, r.exitCode(), "plain PostgreSQL must refuse the PolarDB settings:\n" + r.stdout());
        String conf = node.dataDirectory().resolve("polar.conf").toString();
        List<Executable> checks = new ArrayList<>();
        for (Setting s : polarOnly) {
            if (!s.gucName().contains(".")) {
                checks.add(() -> assertTrue(r.stderr().contains("unrecognized configuration parameter \""
                        + s.gucName() + "\" in file \"" + conf + "\""), s.gucName() + " not refused:\n" + r.stderr()));
            }
        }
        checks.add(() -> assertTrue(r.stderr().contains("configuration file \"" + conf + "\" contains errors"),
                r.stderr()));
        checks.add(() -> assertFalse(r.stderr().contains("\"polar_vfs.localfs_mode\""), r.stderr()));
        assertAll(checks);

        NodeConfig onlyDotted = NodeConfig.builder().role(NodeRole.PRIMARY).polarVfsLocalfsMode(true).build();
        node.writeFile("dotted.conf", onlyDotted.mergeInto(initdbConf));
        assertEquals("on", postgresC("polar_vfs.localfs_mode", "dotted.conf"),
                "a dotted polar_ name is a placeholder to plain PostgreSQL, accepted without complaint");
    }

    private static void writeConfig(NodeConfig cfg) {
        node.writeFile("postgresql.conf", cfg.mergeInto(node.readFile("postgresql.conf")));
    }

    private static void restart() {
        node.stop();
        node.start();
    }

    private static Command postgresCCommand(String name, String configFile) {
        return node.serverCommand("postgres", "-C", name, "-D", node.dataDirectory().toString(),
                "-c", "config_file=" + node.dataDirectory().resolve(configFile)).withTimeout(Duration.ofSeconds(30));
    }

    /** {@code postgres -C name}: the value the server reads from {@code configFile}, without puts' newline. */
    private static String postgresC(String name, String configFile) {
        String out = node.executor().run(postgresCCommand(name, configFile)).stdout();
        assertTrue(out.endsWith("\n") && out.indexOf('\n') == out.length() - 1, "one line for " + name + ": " + out);
        return out.substring(0, out.length() - 1);
    }

    private static String currentSetting(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT current_setting(?, true)")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** The value of the one applied line for {@code name}, as the server parses the file now. */
    private static String appliedFileSetting(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT setting FROM pg_file_settings WHERE name = ? AND applied")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                List<String> values = new ArrayList<>();
                while (rs.next()) {
                    values.add(rs.getString(1));
                }
                assertEquals(1, values.size(), "applied lines for " + name + ": " + values);
                return values.get(0);
            }
        }
    }

    /** {@code source, sourcefile, sourceline} from pg_settings. */
    private static String[] settingSource(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT source, sourcefile, sourceline FROM pg_settings WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "pg_settings has no " + name);
                return new String[] {rs.getString(1), rs.getString(2), rs.getString(3)};
            }
        }
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static int lineOf(String content, String line) {
        List<String> lines = content.lines().collect(Collectors.toList());
        assertEquals(1, lines.stream().filter(line::equals).count(), "exactly one '" + line + "'");
        return lines.indexOf(line) + 1;
    }

    private static int occurrences(String content, String line) {
        return (int) content.lines().filter(line::equals).count();
    }
}
