package dev.polarscale.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeConfigTest {
    private static final PolarStorage PFS = PolarStorage.pfs("disk", "nvme1n1", "shared_data");
    private static final PolarStorage LOCAL = PolarStorage.localFs(Path.of("/home/polar/shared_data"));
    private static final SlotName SLOT = SlotName.of("replica1");

    private static ConnInfo primaryAt(String host) {
        return ConnInfo.builder().host(host).port(5432).user("postgres").dbname("postgres")
                .applicationName("replica1").build();
    }

    private static String golden(String name) throws IOException {
        try (InputStream in = NodeConfigTest.class.getResourceAsStream("/golden/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    // --- golden renderings ---

    @Test
    void tutorialPrimaryOnPfs() throws IOException {
        NodeConfig c = NodeConfig.primary(Port.of(5432), HostId.of(1), PFS).listenAddresses("*").build();
        assertEquals(golden("tutorial-primary.conf"), c.render());
    }

    @Test
    void tutorialReplicaOnPfs() throws IOException {
        NodeConfig c = NodeConfig.replica(Port.of(5433), HostId.of(2), PFS, primaryAt("10.0.0.1"), SLOT)
                .listenAddresses("*").build();
        assertEquals(golden("tutorial-replica.conf"), c.render());
    }

    @Test
    void workingPrimaryOnLocalFileSystem() throws IOException {
        NodeConfig c = NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL).listenAddresses("*").build();
        assertEquals(golden("localfs-primary.conf"), c.render());
    }

    @Test
    void workingReplicaOnLocalFileSystem() throws IOException {
        NodeConfig c = NodeConfig.replica(Port.of(5433), HostId.of(2), LOCAL, primaryAt("127.0.0.1"), SLOT)
                .listenAddresses("*").build();
        assertEquals(golden("localfs-replica.conf"), c.render());
    }

    @Test
    void renderingDoesNotDependOnCallOrder() {
        NodeConfig a = NodeConfig.builder().role(NodeRole.PRIMARY).port(5432).maxConnections(10).build();
        NodeConfig b = NodeConfig.builder().role(NodeRole.PRIMARY).maxConnections(10).port(5432).build();
        assertEquals("port=5432\nmax_connections=10\n", a.render());
        assertEquals(a.render(), b.render());
        assertEquals(a, b);
    }

    // --- what PostgreSQL reads ---

    @Test
    void logLinePrefixIsReadBackWithRealTabs() throws IOException {
        NodeConfig c = NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL).build();
        assertTrue(c.render().contains("log_line_prefix='%p\\t%r\\t%u\\t%m\\t'\n"));
        Map<String, String> read = PgConfReader.read(c.render());
        assertEquals("%p\t%r\t%u\t%m\t", read.get("log_line_prefix"));
        assertEquals(NodeConfig.DEFAULT_LOG_LINE_PREFIX, read.get("log_line_prefix"));
        assertEquals("%p\t%r\t%u\t%m\t", PgConfReader.read(golden("tutorial-primary.conf")).get("log_line_prefix"));
    }

    @Test
    void literalBackslashTStaysTwoCharacters() {
        NodeConfig c = NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL).logLinePrefix("%p\\t").build();
        assertTrue(c.render().contains("log_line_prefix='%p\\\\t'\n"));
        assertEquals("%p\\t", PgConfReader.read(c.render()).get("log_line_prefix"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "it's", "''", "'", "back\\slash", "\\", "\\\\", "ends with backslash\\", "tab\there", "\t",
            "hash # not a comment", "a = b", "=", "#", "%m [%p] ", "\\n stays literal", "\\012", "\\x41",
            "'; shared_preload_libraries='evil", "é ü 中文", "", " leading and trailing ", "$libdir/x"})
    void hostileValuesAreReadBackExactly(String value) {
        NodeConfig c = NodeConfig.builder().role(NodeRole.PRIMARY)
                .logLinePrefix(value)
                .set("application_name", value)
                .set("polar_vfs.some_custom", value)
                .build();
        Map<String, String> read = PgConfReader.read(c.render());
        assertEquals(value, read.get("log_line_prefix"));
        assertEquals(value, read.get("application_name"));
        assertEquals(value, read.get("polar_vfs.some_custom"));
        assertEquals(3, read.size(), "no value may inject another setting");
        assertEquals(3, c.render().split("\n", -1).length - 1, "one line per setting");
    }

    @ParameterizedTest
    @ValueSource(strings = {"line\nbreak", "carriage\rreturn", "nul\0byte", "bell\u0007", "esc\u001b[31m",
            "del\u007f", "form\ffeed", "back\bspace", "trailing newline\n"})
    void controlCharactersOtherThanTabAreRejected(String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NodeConfig.builder().logLinePrefix(value));
        assertTrue(e.getMessage().contains("log_line_prefix"), e.getMessage());
        assertTrue(e.getMessage().contains("control character"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "message stays on one line");
        assertThrows(IllegalArgumentException.class, () -> NodeConfig.builder().set("application_name", value));
    }

    @Test
    void conninfoWithHostileCharactersSurvivesBothQuotingLayers() {
        String password = "p'a\\ss w\"ord#=";
        ConnInfo ci = ConnInfo.builder().host("10.0.0.1").port(5432).user("rep user").password(password)
                .applicationName("replica1").build();
        NodeConfig c = NodeConfig.replica(Port.of(5433), HostId.of(2), LOCAL, ci, SLOT).build();
        String conninfoAsServerReadsIt = PgConfReader.read(c.render()).get("primary_conninfo");
        assertEquals(ci.render(), conninfoAsServerReadsIt);
        Map<String, String> libpq = LibpqConninfoReader.read(conninfoAsServerReadsIt);
        assertEquals(password, libpq.get("password"));
        assertEquals("rep user", libpq.get("user"));
    }

    // --- names ---

    @ParameterizedTest
    @ValueSource(strings = {"work_mem", "polar_vfs.localfs_mode_x", "_x", "A1", "pg_stat_statements.max",
            "auto_explain.log_min_duration"})
    void validParameterNames(String name) {
        NodeConfig c = NodeConfig.builder().role(NodeRole.PRIMARY).set(name, "1").build();
        assertEquals("1", c.value(name).orElseThrow());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1abc", "work mem", "work_mem=1", "a#b", "a'b", "a\"b", "a\nb", "a.b.c", ".a",
            "a.", "a..b", "a-b", "a.1b", "wörk", "a;b", "a$b", "include", "INCLUDE_DIR", "include_if_exists"})
    void invalidParameterNamesAreRejectedByName(String name) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NodeConfig.builder().set(name, "1"));
        assertTrue(e.getMessage().contains("'" + name.replace("\n", "\\u000A") + "'"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"port", "PORT", "primary_slot_name", "primary_conninfo", "polar_vfs.localfs_mode",
            "polar_hostid"})
    void typedParametersCannotBeSetAsStrings(String name) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NodeConfig.builder().set(name, "x"));
        assertTrue(e.getMessage().contains(name), e.getMessage());
    }

    @Test
    void settingTwiceKeepsTheLastValueAndNamesIgnoreCase() {
        NodeConfig c = NodeConfig.builder().role(NodeRole.PRIMARY)
                .set("Work_Mem", "4MB").set("work_mem", "8MB").port(1).port(2).build();
        assertEquals("port=2\nwork_mem='8MB'\n", c.render());
        assertEquals("8MB", c.value("WORK_MEM").orElseThrow());
    }

    @Test
    void unsetRemovesASetting() {
        NodeConfig c = NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL)
                .unset(Setting.MAX_CONNECTIONS).set("work_mem", "1MB").unset("work_mem").build();
        assertTrue(c.value(Setting.MAX_CONNECTIONS).isEmpty());
        assertFalse(c.render().contains("max_connections"));
        assertFalse(c.render().contains("work_mem"));
    }

    // --- values rejected at once ---

    @Test
    void hostIdOutOfRangeIsRejected() {
        for (int bad : new int[] {0, -1, 513, Integer.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> NodeConfig.builder().polarHostId(bad));
            assertTrue(e.getMessage().contains("polar_hostid") && e.getMessage().contains(Integer.toString(bad)),
                    e.getMessage());
        }
        assertEquals("512", NodeConfig.builder().role(NodeRole.PRIMARY).polarHostId(512).build()
                .value(Setting.POLAR_HOSTID).orElseThrow());
    }

    @Test
    void badTypedValuesAreRejectedAtOnceNamingTheValue() {
        assertMessage(() -> NodeConfig.builder().port(0), "0");
        assertMessage(() -> NodeConfig.builder().port(65536), "65536");
        assertMessage(() -> NodeConfig.builder().maxConnections(0), "max_connections", "0");
        assertMessage(() -> NodeConfig.builder().maxWalSenders(-1), "max_wal_senders", "-1");
        assertMessage(() -> NodeConfig.builder().maxReplicationSlots(262144), "max_replication_slots", "262144");
        assertMessage(() -> NodeConfig.builder().primarySlotName(""), "''");
        assertMessage(() -> NodeConfig.builder().primarySlotName("Replica-1"), "Replica-1");
        assertMessage(() -> NodeConfig.builder().polarDiskName(""), "polar_disk_name");
        assertMessage(() -> NodeConfig.builder().polarDatadir("relative/dir/"), "relative/dir/");
        assertMessage(() -> NodeConfig.builder().logDirectory(""), "log_directory");
        assertMessage(() -> NodeConfig.builder().sharedPreloadLibraries("a,b"), "a,b");
        assertMessage(() -> NodeConfig.builder().sharedPreloadLibraries("a b"), "a b");
        assertMessage(() -> NodeConfig.builder().listenAddresses("10.0.0.1, 10.0.0.2"), "10.0.0.1, 10.0.0.2");
        assertMessage(() -> NodeConfig.builder().listenAddresses("x'y"), "x'y");
        assertMessage(() -> NodeConfig.builder().primaryConninfo(ConnInfo.builder().port(5432).build()),
                "port=5432");
    }

    // --- rules across settings ---

    @Test
    void replicaWithoutSlotCannotBeBuilt() {
        NodeConfig.Builder b = NodeConfig.replica(Port.of(5433), HostId.of(2), LOCAL, primaryAt("127.0.0.1"), SLOT)
                .unset(Setting.PRIMARY_SLOT_NAME);
        assertMessage(b::build, "REPLICA", "primary_slot_name", "walsender");
    }

    @Test
    void standbyWithoutSlotCannotBeBuilt() {
        NodeConfig.Builder b = NodeConfig.standby(Port.of(5433), primaryAt("127.0.0.1"), SLOT)
                .unset("primary_slot_name");
        assertMessage(b::build, "STANDBY", "primary_slot_name");
    }

    @Test
    void replicaWithoutConninfoCannotBeBuilt() {
        NodeConfig.Builder b = NodeConfig.replica(Port.of(5433), HostId.of(2), LOCAL, primaryAt("127.0.0.1"), SLOT)
                .unset(Setting.PRIMARY_CONNINFO);
        assertMessage(b::build, "primary_conninfo");
    }

    @Test
    void localFileSystemWithLocalfsModeOffCannotBeBuilt() {
        NodeConfig.Builder b = NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL).polarVfsLocalfsMode(false);
        assertMessage(b::build, "file-dio:///home/polar/shared_data/", "polar_vfs.localfs_mode is off", "139");
        NodeConfig.Builder unset = NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL)
                .unset(Setting.POLAR_VFS_LOCALFS_MODE);
        assertMessage(unset::build, "polar_vfs.localfs_mode is not set");
    }

    @Test
    void replicaWithSharedStorageModeOffCannotBeBuilt() {
        NodeConfig.Builder off = NodeConfig.replica(Port.of(5433), HostId.of(2), LOCAL, primaryAt("h"), SLOT)
                .polarEnableSharedStorageMode(false);
        assertMessage(off::build, "polar_enable_shared_storage_mode=on", "is: off");
        NodeConfig.Builder unset = NodeConfig.builder().role(NodeRole.REPLICA).primaryConninfo(primaryAt("h"))
                .primarySlotName(SLOT);
        assertMessage(unset::build, "polar_enable_shared_storage_mode=on", "is: not set");
    }

    @Test
    void primaryMustNotStreamFromAnotherPrimary() {
        ConnInfo withPassword = primaryAt("10.0.0.1").toBuilder().password("hunter2").build();
        NodeConfig.Builder b = NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL).primaryConninfo(withPassword);
        IllegalStateException e = assertThrows(IllegalStateException.class, b::build);
        assertTrue(e.getMessage().contains("primary_conninfo"), e.getMessage());
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        assertMessage(NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL).primarySlotName(SLOT)::build,
                "primary_slot_name", "replica1");
    }

    @Test
    void roleIsRequired() {
        assertMessage(NodeConfig.builder().port(5432)::build, "role");
    }

    @Test
    void pfsNeedsClusterNameAndDatadirOnItsDisk() {
        NodeConfig.Builder noCluster = NodeConfig.primary(Port.of(5432), HostId.of(1), PFS)
                .unset(Setting.POLAR_STORAGE_CLUSTER_NAME);
        assertMessage(noCluster::build, "polar_storage_cluster_name");
        NodeConfig.Builder otherDisk = NodeConfig.primary(Port.of(5432), HostId.of(1), PFS)
                .polarDatadir("/nvme2n1/shared_data/");
        assertMessage(otherDisk::build, "/nvme2n1/shared_data/", "nvme1n1");
    }

    @Test
    void sharedStorageNeedsHostId() {
        NodeConfig.Builder b = NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL).unset(Setting.POLAR_HOSTID);
        assertMessage(b::build, "polar_hostid");
    }

    @Test
    void walLevelMinimalNeedsNoWalSenders() {
        NodeConfig.Builder b = NodeConfig.builder().role(NodeRole.PRIMARY).walLevel(WalLevel.MINIMAL);
        assertMessage(b::build, "wal_level=minimal", "max_wal_senders=0", "not set");
        assertEquals("wal_level=minimal\nmax_wal_senders=0\n".length(),
                b.maxWalSenders(0).build().render().length());
    }

    @Test
    void switchingStorageDropsThePfsClusterName() {
        NodeConfig c = NodeConfig.primary(Port.of(5432), HostId.of(1), PFS).storage(LOCAL).build();
        assertTrue(c.value(Setting.POLAR_STORAGE_CLUSTER_NAME).isEmpty());
        assertEquals("on", c.value(Setting.POLAR_VFS_LOCALFS_MODE).orElseThrow());
    }

    // --- presets ---

    @Test
    void presetsListenOnLocalhostByDefault() {
        for (NodeConfig c : List.of(
                NodeConfig.primary(Port.of(5432), HostId.of(1), PFS).build(),
                NodeConfig.replica(Port.of(5433), HostId.of(2), PFS, primaryAt("10.0.0.1"), SLOT).build(),
                NodeConfig.standby(Port.of(5434), primaryAt("10.0.0.1"), SLOT).build())) {
            assertEquals("localhost", c.value(Setting.LISTEN_ADDRESSES).orElseThrow(), c.toString());
            assertTrue(c.render().contains("listen_addresses='localhost'\n"));
        }
    }

    @Test
    void standbyIsPlainPostgres() {
        NodeConfig c = NodeConfig.standby(Port.of(5434), primaryAt("10.0.0.1"), SLOT).build();
        assertEquals("port=5434\n"
                + "logging_collector=on\n"
                + "log_line_prefix='%p\\t%r\\t%u\\t%m\\t'\n"
                + "log_directory='pg_log'\n"
                + "listen_addresses='localhost'\n"
                + "primary_conninfo='host=10.0.0.1 port=5432 user=postgres dbname=postgres application_name=replica1'\n"
                + "primary_slot_name='replica1'\n"
                + "hot_standby=on\n", c.render());
        assertTrue(c.values().keySet().stream().noneMatch(k -> k.startsWith("polar")), c.toString());
        assertEquals(NodeRole.STANDBY, c.role());
        assertEquals("standby.signal", c.role().signalFile().orElseThrow());
    }

    @Test
    void accessorsForTheLifecycle() {
        NodeConfig c = NodeConfig.replica(Port.of(5433), HostId.of(2), LOCAL, primaryAt("10.0.0.1"), SLOT).build();
        assertEquals(Port.of(5433), c.port().orElseThrow());
        assertEquals(HostId.of(2), c.hostId().orElseThrow());
        assertEquals(SLOT, c.primarySlotName().orElseThrow());
        assertEquals(primaryAt("10.0.0.1"), c.primaryConninfo().orElseThrow());
        assertEquals("replica.signal", c.role().signalFile().orElseThrow());
        assertEquals(c, c.toBuilder().build());
        assertEquals("5434", c.toBuilder().port(5434).build().value("port").orElseThrow());
    }

    // --- masking ---

    @Test
    void passwordIsMaskedInToStringAndRenderMasked() {
        ConnInfo ci = primaryAt("10.0.0.1").toBuilder().password("hunter2").build();
        NodeConfig c = NodeConfig.replica(Port.of(5433), HostId.of(2), LOCAL, ci, SLOT).build();
        assertTrue(c.render().contains("password=hunter2"));
        assertFalse(c.renderMasked().contains("hunter2"));
        assertTrue(c.renderMasked().contains("password=" + Command.MASK));
        assertFalse(c.toString().contains("hunter2"));
        assertEquals(c.render().replace("hunter2", Command.MASK), c.renderMasked());
    }

    // --- the managed block in postgresql.conf ---

    private static final String INITDB_CONF = "# PostgreSQL configuration file\n"
            + "max_connections = 100\t\t\t# (change requires restart)\n"
            + "#port = 5432\n"
            + "shared_buffers = 128MB\n";

    @Test
    void blockGoesAtTheEndAndWins() {
        NodeConfig c = NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL).build();
        String merged = c.mergeInto(INITDB_CONF);
        assertTrue(merged.startsWith(INITDB_CONF));
        assertTrue(merged.endsWith("# BEGIN polarscale managed block\n" + c.render() + "# END polarscale managed block\n"));
        Map<String, String> read = PgConfReader.read(merged);
        assertEquals("1000", read.get("max_connections"));
        assertEquals("128MB", read.get("shared_buffers"));
    }

    @Test
    void renderingAgainReplacesTheBlock() {
        NodeConfig first = NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL).build();
        NodeConfig second = first.toBuilder().port(6543).build();
        String once = first.mergeInto(INITDB_CONF);
        assertEquals(once, first.mergeInto(once));
        String replaced = second.mergeInto(once);
        assertEquals(second.mergeInto(INITDB_CONF), replaced);
        assertEquals(1, count(replaced, "# BEGIN polarscale managed block"));
        assertEquals(1, count(replaced, "port="));
        assertEquals("6543", PgConfReader.read(replaced).get("port"));
    }

    @Test
    void userLinesAfterAnOldBlockAreKeptAndTheBlockMovesToTheEnd() {
        NodeConfig c = NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL).build();
        String edited = c.mergeInto(INITDB_CONF) + "work_mem = 64MB # added by a human\n";
        String merged = c.mergeInto(edited);
        assertTrue(merged.startsWith(INITDB_CONF + "work_mem = 64MB # added by a human\n"), merged);
        assertTrue(merged.endsWith("# END polarscale managed block\n"));
        assertEquals(merged, c.mergeInto(merged));
    }

    @Test
    void writeIntoRewritesTheFileKeepingItsMode(@TempDir Path dir) throws IOException {
        Path conf = dir.resolve("postgresql.conf");
        Files.writeString(conf, INITDB_CONF);
        Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rw-------"));
        NodeConfig c = NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL).build();
        c.writeInto(conf);
        c.writeInto(conf);
        assertEquals(c.mergeInto(INITDB_CONF), Files.readString(conf));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(conf)));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(conf), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void writeIntoAMissingFileFailsNamingIt(@TempDir Path dir) {
        Path conf = dir.resolve("postgresql.conf");
        NodeConfig c = NodeConfig.primary(Port.of(5432), HostId.of(1), LOCAL).build();
        PolarException e = assertThrows(PolarException.class, () -> c.writeInto(conf));
        assertTrue(e.getMessage().contains(conf.toString()), e.getMessage());
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) {
            n++;
        }
        return n;
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        RuntimeException e = assertThrows(RuntimeException.class, call);
        assertTrue(e instanceof IllegalArgumentException || e instanceof IllegalStateException,
                "misuse exception expected: " + e);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' should contain '" + p + "'");
        }
    }
}
