package dev.polarscale.storage;

import dev.polarscale.storage.internal.PfsOutput;
import dev.polarscale.core.Command;
import dev.polarscale.core.CommandFailedException;
import dev.polarscale.core.PolarException.Reason;
import dev.polarscale.storage.internal.PfsTrace;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.polarscale.storage.RecordingExecutor.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PfsClient}'s decisions on output recorded from the real tools (src/test/resources/pfs,
 * see its README): which answers format, which refuse, and with what reason.
 */
class PfsClientTest {
    private static final DeviceName DEV = DeviceName.of("nvme1n1");
    private static final DeviceName LOOP3 = DeviceName.of("loop3");
    private static final String ROOT_LS = """
              File  1     4194304           Wed Jul 11 00:04:55 2018  .pfs-paxos
              File  1     33554432          Wed Jul 11 00:04:55 2018  .pfs-journal
               Dir  1     128               Wed Jul 11 00:04:55 2018  shared_data
            total 114688 (unit: 512Bytes)
            """;

    private final RecordingExecutor ex = new RecordingExecutor("node1");
    private final PfsClient pfs = Pfs.builder().clusterName("disk").workers(4).build().on(ex);

    private static void assertPrivileged(Command c) {
        assertTrue(c.isPrivileged(), () -> "not privileged: " + c);
        assertTrue(c.runAs().isEmpty(), () -> "runs as a user: " + c);
    }

    /** Replies with the recorded exit code, stdout and stderr of {@code pfs/NAME.*}. */
    private static void recorded(RecordingExecutor.Rule rule, String name) {
        rule.reply(Integer.parseInt(resource("/pfs/" + name + ".exit").strip()), resource("/pfs/" + name + ".stdout"),
                resource("/pfs/" + name + ".stderr"));
    }

    private static List<String> probe(DeviceName d) {
        return PfsTrace.argv(d, List.of("pfs", "-C", "disk", "-E", "0", "ls", "/" + d + "/"));
    }

    private static List<String> blkid(DeviceName d) {
        return List.of("blkid", "-p", "-o", "export", d.devicePath());
    }

    private static List<String> pgrep(DeviceName d) {
        return List.of("pgrep", "-f", PfsClient.daemonPattern(d));
    }

    /** Scripts one device: pgrep, blkid and the ls probe from recordings. */
    private void device(DeviceName d, String pgrep, String blkid, String ls) {
        recorded(ex.on("pgrep"), pgrep);
        recorded(ex.on("blkid"), blkid);
        recorded(ex.on(probe(d).toArray(String[]::new)), ls);
        recorded(ex.on("pfs", "-C", "disk", "mkfs"), "fresh-mkfs");
        ex.on("mkdir", "-p", "/var/run/pfs").exit(0);
    }

    private StorageException refused(DeviceName d, Reason reason) {
        StorageException e = assertThrows(StorageException.class, () -> pfs.mkfs(d, MkfsMode.REFUSE_IF_FORMATTED));
        assertEquals(reason, e.reason(), e::getMessage);
        assertEquals("node1", e.host().orElseThrow());
        assertTrue(ex.argvs().stream().noneMatch(a -> a.contains("mkfs")), () -> "mkfs ran: " + ex.argvs());
        return e;
    }

    // ---- mkfs without force: only a provably empty device is formatted

    @Test
    void mkfsFormatsAFreshDeviceOnlyAfterBothProbesSayEmpty() {
        device(LOOP3, "pfsd-pgrep-none", "fresh-blkid", "fresh-ls");
        pfs.mkfs(LOOP3, MkfsMode.REFUSE_IF_FORMATTED);
        assertEquals(List.of(pgrep(LOOP3), blkid(LOOP3), probe(LOOP3), List.of("mkdir", "-p", "/var/run/pfs"),
                List.of("pfs", "-C", "disk", "mkfs", "loop3")), ex.argvs());
        ex.commands().subList(1, 5).forEach(PfsClientTest::assertPrivileged);
        assertFalse(ex.commands().get(0).isPrivileged());
    }

    @Test
    void mkfsRefusesADeviceThatAlreadyHoldsAPfs() {
        device(LOOP3, "pfsd-pgrep-none", "pfs-blkid", "pfs-ls");
        StorageException e = refused(LOOP3, Reason.DEVICE_NOT_EMPTY);
        assertEquals("node1 - refusing to format /dev/loop3: it already holds a PFS file system "
                + "(pfs -C disk ls /loop3/ succeeds); pass MkfsMode.FORCE_DESTROYING_EXISTING to destroy it",
                e.getMessage());
    }

    @Test
    void mkfsRefusesAnExt4DeviceThoughPfsSaysNoFileSystemThereToo() {
        device(DeviceName.of("loop1"), "pfsd-pgrep-none", "ext4-blkid", "ext4-ls");
        StorageException e = refused(DeviceName.of("loop1"), Reason.DEVICE_NOT_EMPTY);
        assertEquals("node1 - refusing to format /dev/loop1: it holds a file system (blkid -p: "
                + "UUID=e37e8963-8684-457d-8f22-c7293a16cf30 VERSION=1.0 BLOCK_SIZE=4096 TYPE=ext4 USAGE=filesystem); "
                + "pass MkfsMode.FORCE_DESTROYING_EXISTING to destroy it", e.getMessage());
        // PFS alone would have taken it for empty: its answer on ext4 is the fresh device's
        assertFalse(pfs.isFormatted(DeviceName.of("loop1")));
    }

    @Test
    void mkfsRefusesADeviceWithAPartitionTable() {
        device(DeviceName.of("loop5"), "pfsd-pgrep-none", "parttable-blkid", "fresh-ls");
        StorageException e = refused(DeviceName.of("loop5"), Reason.DEVICE_NOT_EMPTY);
        assertEquals("node1 - refusing to format /dev/loop5: it holds a partition table (blkid -p: PTTYPE=dos); "
                + "pass MkfsMode.FORCE_DESTROYING_EXISTING to destroy it", e.getMessage());
    }

    @Test
    void mkfsRefusesAnUnreadableDeviceAsUnknownQuotingTheIoError() {
        DeviceName loop7 = DeviceName.of("loop7");
        device(loop7, "pfsd-pgrep-none", "unbound-blkid", "unbound-ls");
        StorageException e = refused(loop7, Reason.DEVICE_STATE_UNKNOWN);
        assertEquals("node1 - refusing to format /dev/loop7: cannot tell whether it is empty: pfs -C disk -E 0 ls "
                + "/loop7/ did not answer \"no file system\" (exit 5, chunk 0 magic 0) but gave exit 255; "
                + "trace: ERR disk io 0x56250005ceb0 op 2 len 4096 returns res 0 res2 0 | ERR io failed! error: -5, "
                + "pbdname: loop7, op: 2, buf: 0x967b4830, len: 4096, bda: 4194304, flags: 0 | "
                + "ERR Read leader @ bda 4194304 failed, rv=-5", e.getMessage());
    }

    @Test
    void mkfsRefusesAMissingDeviceAsUnknownThoughBlkidFindsNothingOnIt() {
        DeviceName missing = DeviceName.of("nvme9n1");
        device(missing, "pfsd-pgrep-none", "missing-blkid", "missing-ls");
        StorageException e = refused(missing, Reason.DEVICE_STATE_UNKNOWN);
        assertTrue(e.getMessage().contains("ERR cant open /dev/nvme9n1: No such file or directory"), e.getMessage());
    }

    @Test
    void mkfsRefusesAnExitCodeItDoesNotKnowEvenWithTheEmptyDevicesTrace() {
        device(LOOP3, "pfsd-pgrep-none", "fresh-blkid", "fresh-ls");
        ex.on(probe(LOOP3).toArray(String[]::new)).reply(1, "", resource("/pfs/fresh-ls.stderr"));
        StorageException e = refused(LOOP3, Reason.DEVICE_STATE_UNKNOWN);
        assertTrue(e.getMessage().contains("but gave exit 1; trace: ERR pfs magic mismatch 0 vs 0x5046534348"),
                e.getMessage());
    }

    @Test
    void mkfsRefusesExit5WithoutTheNoFileSystemTraceOfThatPid() {
        // the recorded trace belongs to pid 8433; another pid's marker makes it someone else's lines
        device(LOOP3, "pfsd-pgrep-none", "fresh-blkid", "fresh-ls");
        ex.on(probe(LOOP3).toArray(String[]::new)).reply(5, "",
                resource("/pfs/fresh-ls.stderr").replace("--- pfs trace of pid 8433", "--- pfs trace of pid 8434"));
        refused(LOOP3, Reason.DEVICE_STATE_UNKNOWN);
    }

    @Test
    void mkfsRefusesChunkZeroDataThatIsNotPfs() {
        device(LOOP3, "pfsd-pgrep-none", "fresh-blkid", "fresh-ls");
        ex.on(probe(LOOP3).toArray(String[]::new)).reply(5, "", resource("/pfs/fresh-ls.stderr")
                .replace("pfs magic mismatch 0 vs", "pfs magic mismatch 0x6b636f6c62 vs"));
        StorageException e = refused(LOOP3, Reason.DEVICE_NOT_EMPTY);
        assertTrue(e.getMessage().contains("its first bytes hold data that is not PFS"), e.getMessage());
    }

    @Test
    void mkfsRefusesWhileAPfsdRunsForTheDeviceAndProbesNothing() {
        device(LOOP3, "pfsd-pgrep", "fresh-blkid", "fresh-ls");
        StorageException e = refused(LOOP3, Reason.DEVICE_STATE_UNKNOWN);
        assertEquals("node1 - refusing to format /dev/loop3: pfsd runs for it (pid 9212); a running pfsd keeps the "
                + "mounted file system's metadata: stop it first (stop_pfsd.sh loop3)", e.getMessage());
        assertEquals(List.of(pgrep(LOOP3)), ex.argvs());
        assertThrows(StorageException.class, () -> pfs.mkfs(LOOP3, MkfsMode.FORCE_DESTROYING_EXISTING));
    }

    @Test
    void mkfsRefusesWhenBlkidCannotAnswer() {
        device(LOOP3, "pfsd-pgrep-none", "fresh-blkid", "fresh-ls");
        ex.on("blkid").reply(4, "", "blkid: unrecognized option '--bogus'\n");
        StorageException e = refused(LOOP3, Reason.DEVICE_STATE_UNKNOWN);
        assertEquals("node1 - refusing to format /dev/loop3: cannot tell whether it is empty: blkid -p -o export "
                + "/dev/loop3 exited 4 (blkid: unrecognized option '--bogus')", e.getMessage());
    }

    @Test
    void aMissingPfsToolIsNotMistakenForAnUnformattedDevice() {
        device(LOOP3, "pfsd-pgrep-none", "fresh-blkid", "fresh-ls");
        ex.on(probe(LOOP3).toArray(String[]::new)).reply(127, "", "sh: 1: pfs: not found\n");
        refused(LOOP3, Reason.BINARIES_MISSING);
    }

    // ---- mkfs with force

    @Test
    void forcedMkfsFormatsOverAnExistingPfsWithDashF() {
        device(LOOP3, "pfsd-pgrep-none", "pfs-blkid", "pfs-ls");
        pfs.mkfs(LOOP3, MkfsMode.FORCE_DESTROYING_EXISTING);
        assertEquals(List.of(pgrep(LOOP3), probe(LOOP3), List.of("mkdir", "-p", "/var/run/pfs"),
                List.of("pfs", "-C", "disk", "mkfs", "-f", "loop3")), ex.argvs());
        assertPrivileged(ex.commands().get(3));
    }

    @Test
    void forcedMkfsOverExt4NeedsNoDashFAndOverAnUnreadableDeviceGetsIt() {
        device(DeviceName.of("loop1"), "pfsd-pgrep-none", "ext4-blkid", "ext4-ls");
        pfs.mkfs(DeviceName.of("loop1"), MkfsMode.FORCE_DESTROYING_EXISTING);
        assertEquals(List.of("pfs", "-C", "disk", "mkfs", "loop1"), ex.argvs().get(ex.argvs().size() - 1));
        device(DeviceName.of("loop7"), "pfsd-pgrep-none", "unbound-blkid", "unbound-ls");
        pfs.mkfs(DeviceName.of("loop7"), MkfsMode.FORCE_DESTROYING_EXISTING);
        assertEquals(List.of("pfs", "-C", "disk", "mkfs", "-f", "loop7"), ex.argvs().get(ex.argvs().size() - 1));
    }

    @Test
    void aFailedMkfsIsACommandFailure() {
        device(LOOP3, "pfsd-pgrep-none", "pfs-blkid", "pfs-ls");
        recorded(ex.on("pfs", "-C", "disk", "mkfs"), "pfs-mkfs-again");
        CommandFailedException e = assertThrows(CommandFailedException.class,
                () -> pfs.mkfs(LOOP3, MkfsMode.FORCE_DESTROYING_EXISTING));
        assertTrue(e.getMessage().contains("mkfs isn't allowed because that chunk 0 maybe already formatted"),
                e.getMessage());
    }

    // ---- isFormatted, info, room

    @Test
    void isFormattedReadsTheProbeAndThrowsWhenItCannotTell() {
        recorded(ex.on(probe(LOOP3).toArray(String[]::new)), "pfs-ls");
        assertTrue(pfs.isFormatted(LOOP3));
        recorded(ex.on(probe(LOOP3).toArray(String[]::new)), "fresh-ls");
        assertFalse(pfs.isFormatted(LOOP3));
        DeviceName loop7 = DeviceName.of("loop7");
        recorded(ex.on(probe(loop7).toArray(String[]::new)), "unbound-ls");
        StorageException e = assertThrows(StorageException.class, () -> pfs.isFormatted(loop7));
        assertEquals(Reason.DEVICE_STATE_UNKNOWN, e.reason());
        ex.commands().forEach(PfsClientTest::assertPrivileged);
    }

    @Test
    void infoParsesTheRecordedOutput() {
        recorded(ex.on("sh", "-c", PfsTrace.SCRIPT, "sh", "/var/log/pfs-loop3.log", "pfs", "-C", "disk", "info"), "pfs-info");
        PfsInfo info = pfs.info(LOOP3);
        assertEquals(new PfsInfo(LOOP3, 3, 7680, 7420, 6144, 6141, 6144, 6141), info);
        assertEquals(7420L * 4 * 1024 * 1024, info.freeBytes());
        assertEquals(6141, info.freeFiles());
        assertEquals(List.of(PfsTrace.argv(LOOP3, List.of("pfs", "-C", "disk", "info", "loop3"))), ex.argvs());
        assertPrivileged(ex.commands().get(0));
    }

    @Test
    void infoOfAnUnformattedDeviceSaysSo() {
        recorded(ex.on("sh", "-c", PfsTrace.SCRIPT), "fresh-info");
        StorageException e = assertThrows(StorageException.class, () -> pfs.info(LOOP3));
        assertEquals(Reason.STORAGE_INVALID, e.reason());
        assertTrue(e.getMessage().startsWith("node1 - cannot read the PFS capacity of /dev/loop3: it holds no PFS "
                + "file system (exit 5; trace: ERR pfs magic mismatch 0 vs 0x5046534348"), e.getMessage());
    }

    @Test
    void requireRoomComparesFreeBlocksAndFiles() {
        recorded(ex.on("sh", "-c", PfsTrace.SCRIPT), "pfs-info");
        assertEquals(7420, pfs.requireRoomForPrimary(LOOP3).freeBlocks());
        assertEquals(7420, pfs.requireRoom(LOOP3, 7420, 6141).freeBlocks());
        StorageException e = assertThrows(StorageException.class, () -> pfs.requireRoom(LOOP3, 7421, 0));
        assertEquals(Reason.DEVICE_UNSUITABLE, e.reason());
        assertEquals("node1 - PFS on /dev/loop3 has 7420 free 4 MiB blocks (29.0 GiB) and room for 6141 files "
                + "(of 7680 blocks, 3 chunks of 10 GiB); 7421 blocks (29.0 GiB) and 0 files are needed", e.getMessage());
        assertThrows(StorageException.class, () -> pfs.requireRoom(LOOP3, 0, 6142));
        assertThrows(IllegalArgumentException.class, () -> pfs.requireRoom(LOOP3, -1, 0));
    }

    @Test
    void primaryNeedsMoreThanWhatOneChunkHasLeftAfterAnInitdb() {
        // a 10 GiB device (one chunk) after mkfs: 2,560 blocks less the journal and paxos; a primary's initdb took 1,293
        PfsInfo oneChunk = PfsOutput.parseInfo(LOOP3, """
                Blktag Info:
                 (0)allocnode: id 0, shift 0, nchild=1, nall 2560, nfree 1007, next 0
                Direntry Info:
                 (0)allocnode: id 0, shift 0, nchild=1, nall 2048, nfree 772, next 0
                Inode Info:
                 (0)allocnode: id 0, shift 0, nchild=1, nall 2048, nfree 772, next 0
                """);
        assertTrue(oneChunk.freeBlocks() < PfsClient.PRIMARY_INITDB_BLOCKS);
        assertTrue(oneChunk.freeFiles() < PfsClient.PRIMARY_INITDB_FILES);
    }

    @Test
    void parseInfoRejectsWhatItCannotRead() {
        assertThrows(IllegalArgumentException.class, () -> PfsOutput.parseInfo(LOOP3, "Blktag Info:\n"));
        assertThrows(IllegalArgumentException.class, () -> PfsOutput.parseInfo(LOOP3,
                resource("/pfs/pfs-info.stdout").replaceFirst("nchild=3, nall 6144", "nchild=2, nall 6144")));
        assertThrows(IllegalArgumentException.class, () -> PfsOutput.parseInfo(LOOP3,
                resource("/pfs/pfs-info.stdout").replace("nfree 7420", "nfree 7681")));
    }

    // ---- ls, stat, mkdir

    @Test
    void lsListsEntryNamesWithoutTheTotalLine() {
        ex.on("pfs", "-C", "disk", "ls").stdout(ROOT_LS);
        assertEquals(List.of(".pfs-paxos", ".pfs-journal", "shared_data"), pfs.ls(PfsPath.root(DEV)));
        assertEquals(List.of(List.of("pfs", "-C", "disk", "ls", "/nvme1n1/")), ex.argvs());
        assertPrivileged(ex.commands().get(0));
    }

    @Test
    void lsOfAnEmptyDirectoryIsEmptyAndAFailureIsAStorageException() {
        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/shared_data/").stdout("total 0 (unit: 512Bytes)\n");
        assertEquals(List.of(), pfs.ls(PfsPath.of("/nvme1n1/shared_data")));
        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/nope/").reply(255, "ls failed: No such file or directory\n", "");
        StorageException e = assertThrows(StorageException.class, () -> pfs.ls(PfsPath.of("/nvme1n1/nope")));
        assertEquals("node1 - cannot list PFS directory /nvme1n1/nope/ (pfs ls exited 255): "
                + "ls failed: No such file or directory", e.getMessage());
    }

    @Test
    void existsIsAPfsStatThatTellsMissingFromBroken() {
        recorded(ex.on("pfs", "-C", "disk", "stat", "/loop3/shared_data"), "stat-dir");
        recorded(ex.on("pfs", "-C", "disk", "stat", "/loop3/nope"), "stat-missing");
        ex.on("pfs", "-C", "disk", "stat", "/loop3/broken").reply(255, "stat failed: Input/output error\n", "");
        assertTrue(pfs.exists(PfsPath.of("/loop3/shared_data")));
        assertFalse(pfs.exists(PfsPath.of("/loop3/nope")));
        StorageException e = assertThrows(StorageException.class, () -> pfs.exists(PfsPath.of("/loop3/broken")));
        assertEquals(Reason.DEVICE_STATE_UNKNOWN, e.reason());
        ex.commands().forEach(PfsClientTest::assertPrivileged);
    }

    @Test
    void mkdirRunsPfsMkdirPrivileged() {
        recorded(ex.on("pfs", "-C", "disk", "mkdir"), "pfsd-mkdir");
        pfs.mkdir(PfsPath.of("/loop3/shared_data"));
        assertEquals(List.of(List.of("pfs", "-C", "disk", "mkdir", "/loop3/shared_data")), ex.argvs());
        assertPrivileged(ex.commands().get(0));
        assertThrows(IllegalArgumentException.class, () -> pfs.mkdir(PfsPath.root(DEV)));
        recorded(ex.on("pfs", "-C", "disk", "mkdir"), "pfsd-mkdir-again");
        CommandFailedException e = assertThrows(CommandFailedException.class, () -> pfs.mkdir(PfsPath.of("/loop3/shared_data")));
        assertTrue(e.getMessage().contains("mkdir failed: File exists"), e.getMessage());
    }

    // ---- pfsd

    private static List<String> detachedStart(String script, DeviceName d, String workers) {
        List<String> argv = new ArrayList<>(List.of("sh", "-c"));
        argv.add(startScript());
        argv.addAll(List.of("sh", "/var/log/pfsd-" + d + ".start.log", script, "-p", d.name(), "-w", workers));
        return argv;
    }

    private static String startScript() {
        RecordingExecutor probe = new RecordingExecutor("x");
        probe.on("sh").exit(0);
        Pfs.builder().build().on(probe).startDaemon(DEV);
        return probe.argvs().get(0).get(2);
    }

    @Test
    void startAndStopUseTheArgumentFormsTheScriptsRead() {
        recorded(ex.on("sh", "-c"), "pfsd-start");
        recorded(ex.on("/usr/local/polarstore/pfsd/bin/stop_pfsd.sh"), "pfsd-stop");
        pfs.startDaemon(DEV);
        pfs.stopDaemon(DEV);
        assertEquals(List.of(detachedStart("/usr/local/polarstore/pfsd/bin/start_pfsd.sh", DEV, "4"),
                List.of("/usr/local/polarstore/pfsd/bin/stop_pfsd.sh", "nvme1n1")), ex.argvs());
        ex.commands().forEach(PfsClientTest::assertPrivileged);
        // the daemon inherits the script's output: it goes to a file, the pipe is closed at once
        String script = ex.argvs().get(0).get(2);
        assertTrue(script.contains("\"$@\" </dev/null >\"$log\" 2>&1"), script);
    }

    @Test
    void aStartWhileOneRunsAndAStopWhenNoneRunsFail() {
        recorded(ex.on("sh", "-c"), "pfsd-start-again");
        recorded(ex.on("/usr/local/polarstore/pfsd/bin/stop_pfsd.sh"), "pfsd-stop-none");
        CommandFailedException e = assertThrows(CommandFailedException.class, () -> pfs.startDaemon(LOOP3));
        assertTrue(e.getMessage().contains("loop3 already exist"), e.getMessage());
        e = assertThrows(CommandFailedException.class, () -> pfs.stopDaemon(LOOP3));
        assertTrue(e.getMessage().contains("pfsdaemon -p loop3 not exist"), e.getMessage());
    }

    @Test
    void scriptPathsAndToolAreConfigurable() {
        PfsClient custom = Pfs.builder().clusterName("polarstore").pfsCommand("/opt/pfs/bin/pfs")
                .pfsdBinDir(Path.of("/opt/pfsd/bin")).stopScript(Path.of("/opt/other/stop.sh")).workers(8)
                .build().on(ex);
        ex.on("sh", "-c").exit(0);
        ex.on("/opt/other/stop.sh").exit(0);
        ex.on("/opt/pfs/bin/pfs").exit(0);
        custom.startDaemon(DEV);
        custom.stopDaemon(DEV);
        custom.mkdir(PfsPath.of("/nvme1n1/d"));
        assertEquals(List.of(detachedStart("/opt/pfsd/bin/start_pfsd.sh", DEV, "8"),
                List.of("/opt/other/stop.sh", "nvme1n1"),
                List.of("/opt/pfs/bin/pfs", "-C", "polarstore", "mkdir", "/nvme1n1/d")), ex.argvs());
    }

    @Test
    void daemonRunningIsAPgrepOfTheDevicesPfsdaemon() {
        recorded(ex.on("pgrep"), "pfsd-pgrep");
        assertTrue(pfs.isDaemonRunning(LOOP3));
        Command c = ex.commands().get(0);
        assertEquals(List.of("pgrep", "-f", "[p]fsdaemon -p loop3( |$)"), c.argv());
        assertFalse(c.isPrivileged());
        recorded(ex.on("pgrep"), "pfsd-pgrep-none");
        assertFalse(pfs.isDaemonRunning(LOOP3));
        ex.on("pgrep").exit(3);
        assertThrows(StorageException.class, () -> pfs.isDaemonRunning(LOOP3));
    }

    @Test
    void daemonPatternMatchesOnlyThatDevicesDaemon() {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(PfsClient.daemonPattern(DEV));
        assertTrue(p.matcher("/usr/local/polarstore/pfsd/bin/../bin/pfsdaemon -p nvme1n1 -w 4 -c x.conf").find());
        assertTrue(p.matcher("pfsdaemon -p nvme1n1").find());
        assertFalse(p.matcher("pfsdaemon -p nvme1n10 -w 4").find());
        assertFalse(p.matcher("bash -c pgrep -f '[p]fsdaemon -p nvme1n1( |$)'").find());
        assertEquals("[p]fsdaemon -p loop0\\.x( |$)", PfsClient.daemonPattern(DeviceName.of("loop0.x")));
    }

    @Test
    void ensureDaemonRunningStartsOnlyWhenNeeded() {
        ex.on("pgrep").exit(0);
        assertFalse(pfs.ensureDaemonRunning(DEV));
        assertEquals(1, ex.commands().size());

        RecordingExecutor ex2 = new RecordingExecutor("node2");
        ex2.on("pgrep").exit(1).reply(0, "9212\n", "");
        recorded(ex2.on("sh", "-c"), "pfsd-start");
        assertTrue(Pfs.builder().build().on(ex2).ensureDaemonRunning(DEV));
        assertEquals(List.of("pgrep", "sh", "pgrep"), ex2.commands().stream().map(Command::program).toList());
    }

    @Test
    void aFailedStartIsACommandFailure() {
        ex.on("pgrep").exit(1);
        ex.on("sh", "-c").reply(1, "pfsdaemon  start failed\n", "");
        assertThrows(CommandFailedException.class, () -> pfs.ensureDaemonRunning(DEV));
    }

    @Test
    void builderRejectsBadValuesAtOnce() {
        assertThrows(IllegalArgumentException.class, () -> Pfs.builder().clusterName("a b"));
        assertThrows(IllegalArgumentException.class, () -> Pfs.builder().workers(0));
        assertThrows(IllegalArgumentException.class, () -> Pfs.builder().pfsdBinDir(Path.of("rel/bin")));
        assertThrows(IllegalArgumentException.class, () -> Pfs.builder().pfsCommand("bin/pfs"));
        assertThrows(IllegalArgumentException.class, () -> Pfs.builder().timeout(java.time.Duration.ZERO));
    }

    @Test
    void parseLsKeepsNamesWithSpacesAndRejectsUnknownLines() {
        assertEquals(List.of("a b"),
                PfsOutput.parseLs("  File  1     1   Mon Jul 30 17:42:19 2018  a b\ntotal 1 (unit: 512Bytes)\n"));
        assertEquals(List.of(".pfs-paxos", ".pfs-journal"), PfsOutput.parseLs(resource("/pfs/pfs-ls.stdout")));
        assertThrows(StorageException.class, () -> PfsOutput.parseLs("Segmentation fault\n"));
    }
}
