package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandFailedException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PfsClientTest {
    private static final DeviceName DEV = DeviceName.of("nvme1n1");
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
        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/nope/").reply(1, "", "pfs: No such file or directory\n");
        StorageException e = assertThrows(StorageException.class, () -> pfs.ls(PfsPath.of("/nvme1n1/nope")));
        assertEquals("node1 - cannot list PFS directory /nvme1n1/nope/ (pfs ls exited 1): "
                + "pfs: No such file or directory", e.getMessage());
    }

    @Test
    void mkdirRunsPfsMkdirPrivileged() {
        ex.on("pfs", "-C", "disk", "mkdir").exit(0);
        pfs.mkdir(PfsPath.of("/nvme1n1/shared_data"));
        assertEquals(List.of(List.of("pfs", "-C", "disk", "mkdir", "/nvme1n1/shared_data")), ex.argvs());
        assertPrivileged(ex.commands().get(0));
        assertThrows(IllegalArgumentException.class, () -> pfs.mkdir(PfsPath.root(DEV)));
    }

    @Test
    void mkfsOnAnUnformattedDeviceProbesThenFormatsWithoutForce() {
        ex.on("pfs", "-C", "disk", "ls").reply(1, "", "open /nvme1n1/ failed\n");
        ex.on("pfs", "-C", "disk", "mkfs").exit(0);
        pfs.mkfs(DEV, MkfsMode.REFUSE_IF_FORMATTED);
        assertEquals(List.of(List.of("pfs", "-C", "disk", "ls", "/nvme1n1/"),
                List.of("pfs", "-C", "disk", "mkfs", "nvme1n1")), ex.argvs());
        ex.commands().forEach(PfsClientTest::assertPrivileged);
    }

    @Test
    void mkfsRefusesADeviceThatAlreadyHoldsAPfs() {
        ex.on("pfs", "-C", "disk", "ls").stdout(ROOT_LS);
        StorageException e = assertThrows(StorageException.class, () -> pfs.mkfs(DEV, MkfsMode.REFUSE_IF_FORMATTED));
        assertEquals("node1 - refusing to format /dev/nvme1n1: it already holds a PFS file system "
                + "(pfs -C disk ls /nvme1n1/ succeeds); pass MkfsMode.FORCE_DESTROYING_EXISTING to destroy it",
                e.getMessage());
        assertEquals(List.of(List.of("pfs", "-C", "disk", "ls", "/nvme1n1/")), ex.argvs());
    }

    @Test
    void forcedMkfsFormatsOverAnExistingPfsWithDashF() {
        ex.on("pfs", "-C", "disk", "ls").stdout(ROOT_LS);
        ex.on("pfs", "-C", "disk", "mkfs").exit(0);
        pfs.mkfs(DEV, MkfsMode.FORCE_DESTROYING_EXISTING);
        assertEquals(List.of("pfs", "-C", "disk", "mkfs", "-f", "nvme1n1"), ex.argvs().get(1));
        assertPrivileged(ex.commands().get(1));
    }

    @Test
    void aMissingPfsToolIsNotMistakenForAnUnformattedDevice() {
        ex.on("pfs").reply(127, "", "sudo: pfs: command not found\n");
        assertThrows(StorageException.class, () -> pfs.mkfs(DEV, MkfsMode.REFUSE_IF_FORMATTED));
        assertEquals(1, ex.commands().size());
    }

    @Test
    void startAndStopUseTheArgumentFormsTheScriptsRead() {
        ex.on("/usr/local/polarstore/pfsd/bin/start_pfsd.sh").exit(0);
        ex.on("/usr/local/polarstore/pfsd/bin/stop_pfsd.sh").exit(0);
        pfs.startDaemon(DEV);
        pfs.stopDaemon(DEV);
        assertEquals(List.of(
                List.of("/usr/local/polarstore/pfsd/bin/start_pfsd.sh", "-p", "nvme1n1", "-w", "4"),
                List.of("/usr/local/polarstore/pfsd/bin/stop_pfsd.sh", "nvme1n1")), ex.argvs());
        ex.commands().forEach(PfsClientTest::assertPrivileged);
    }

    @Test
    void scriptPathsAndToolAreConfigurable() {
        PfsClient custom = Pfs.builder().clusterName("polarstore").pfsCommand("/opt/pfs/bin/pfs")
                .pfsdBinDir(Path.of("/opt/pfsd/bin")).stopScript(Path.of("/opt/other/stop.sh")).workers(8)
                .build().on(ex);
        ex.on("/opt/pfsd/bin/start_pfsd.sh").exit(0);
        ex.on("/opt/other/stop.sh").exit(0);
        ex.on("/opt/pfs/bin/pfs").exit(0);
        custom.startDaemon(DEV);
        custom.stopDaemon(DEV);
        custom.mkdir(PfsPath.of("/nvme1n1/d"));
        assertEquals(List.of(List.of("/opt/pfsd/bin/start_pfsd.sh", "-p", "nvme1n1", "-w", "8"),
                List.of("/opt/other/stop.sh", "nvme1n1"),
                List.of("/opt/pfs/bin/pfs", "-C", "polarstore", "mkdir", "/nvme1n1/d")), ex.argvs());
    }

    @Test
    void daemonRunningIsAPgrepOfTheDevicesPfsdaemon() {
        ex.on("pgrep").reply(0, "4242\n", "");
        assertTrue(pfs.isDaemonRunning(DEV));
        Command c = ex.commands().get(0);
        assertEquals(List.of("pgrep", "-f", "[p]fsdaemon -p nvme1n1( |$)"), c.argv());
        assertFalse(c.isPrivileged());
        ex.on("pgrep").exit(1);
        assertFalse(pfs.isDaemonRunning(DEV));
        ex.on("pgrep").exit(3);
        assertThrows(StorageException.class, () -> pfs.isDaemonRunning(DEV));
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
        ex2.on("pgrep").exit(1).exit(0);
        ex2.on("/usr/local/polarstore/pfsd/bin/start_pfsd.sh").exit(0);
        assertTrue(Pfs.builder().build().on(ex2).ensureDaemonRunning(DEV));
        assertEquals(List.of("pgrep", "/usr/local/polarstore/pfsd/bin/start_pfsd.sh", "pgrep"),
                ex2.commands().stream().map(Command::program).toList());
    }

    @Test
    void aFailedStartIsACommandFailure() {
        ex.on("pgrep").exit(1);
        ex.on("/usr/local/polarstore/pfsd/bin/start_pfsd.sh").reply(1, "pfsdaemon  start failed\n", "");
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
                PfsClient.parseLs("  File  1     1   Mon Jul 30 17:42:19 2018  a b\ntotal 1 (unit: 512Bytes)\n"));
        assertThrows(StorageException.class, () -> PfsClient.parseLs("Segmentation fault\n"));
    }
}
