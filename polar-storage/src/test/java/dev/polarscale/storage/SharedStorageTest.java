package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.storage.internal.PfsTrace;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.polarscale.storage.RecordingExecutor.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SharedStorageTest {
    private static final Pfs PFS = Pfs.builder().clusterName("disk").build();

    @Test
    void localFileSystemSettingsInOrder() {
        SharedStorage s = SharedStorage.localFileSystem(Path.of("/home/polar/shared_data"), "postgres");
        assertEquals(List.of(
                Map.entry("polar_enable_shared_storage_mode", "on"),
                Map.entry("polar_vfs.localfs_mode", "on"),
                Map.entry("polar_disk_name", "home"),
                Map.entry("polar_datadir", "file-dio:///home/polar/shared_data/")), new ArrayList<>(s.settings().entrySet()));
        assertEquals("/home/polar/shared_data/", s.initdbDirectory());
        assertEquals("localfs", s.initdbStorageArgument());
        assertThrows(UnsupportedOperationException.class, () -> s.settings().put("x", "y"));
    }

    @Test
    void pfsSettingsInOrder() {
        SharedStorage s = SharedStorage.pfs(PFS, PfsPath.of("/nvme1n1/shared_data"), 0);
        assertEquals(List.of(
                Map.entry("polar_enable_shared_storage_mode", "on"),
                Map.entry("polar_vfs.localfs_mode", "off"),
                Map.entry("polar_disk_name", "nvme1n1"),
                Map.entry("polar_datadir", "/nvme1n1/shared_data/"),
                Map.entry("polar_storage_cluster_name", "disk")), new ArrayList<>(s.settings().entrySet()));
        assertEquals("/nvme1n1/shared_data/", s.initdbDirectory());
        assertEquals("disk", s.initdbStorageArgument());
    }

    @Test
    void rejectsUnsafeDirectoriesAndRoot() {
        for (String bad : List.of("relative/dir", "/srv/a b", "/srv/it's", "/srv/../etc", "/srv/x\ny", "/")) {
            assertThrows(IllegalArgumentException.class,
                    () -> SharedStorage.localFileSystem(Path.of(bad), "postgres"), bad);
        }
        assertThrows(IllegalArgumentException.class,
                () -> SharedStorage.localFileSystem(Path.of("/srv/shared"), "root"));
        assertThrows(IllegalArgumentException.class,
                () -> SharedStorage.pfs(PFS, PfsPath.of("/nvme1n1/"), 0));
    }

    private static final List<String> PROBE = PfsTrace.argv(DeviceName.of("nvme1n1"),
            List.of("pfs", "-C", "disk", "-E", "0", "ls", "/nvme1n1/"));

    private static void recorded(RecordingExecutor.Rule rule, String name) {
        rule.reply(Integer.parseInt(resource("/pfs/" + name + ".exit").strip()), resource("/pfs/" + name + ".stdout"),
                resource("/pfs/" + name + ".stderr"));
    }

    @Test
    void pfsPrepareChecksTheDeviceAndItsPfsStartsPfsdAndCreatesOnlyMissingDirectories() {
        RecordingExecutor ex = new RecordingExecutor("node2");
        ex.on("lsblk").stdout(resource("/lsblk/tutorial.txt"));
        recorded(ex.on(PROBE.toArray(String[]::new)), "pfs-ls");
        ex.on("pgrep").exit(1).reply(0, "9212\n", "");
        recorded(ex.on("sh", "-c"), "pfsd-start");
        recorded(ex.on("pfs", "-C", "disk", "stat", "/nvme1n1/polar"), "stat-dir");
        recorded(ex.on("pfs", "-C", "disk", "stat", "/nvme1n1/polar/shared_data"), "stat-missing");
        recorded(ex.on("pfs", "-C", "disk", "mkdir"), "pfsd-mkdir");
        SharedStorage.pfs(PFS, PfsPath.of("/nvme1n1/polar/shared_data"), 100L << 30).prepare(ex);
        List<List<String>> argvs = ex.argvs();
        assertEquals(List.of(
                List.of("lsblk", "-b", "-P", "-o", "NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT,PKNAME"),
                PROBE,
                List.of("pgrep", "-f", "[p]fsdaemon -p nvme1n1( |$)")), argvs.subList(0, 3));
        assertEquals(List.of("sh", "/var/log/pfsd-nvme1n1.start.log",
                "/usr/local/polarstore/pfsd/bin/start_pfsd.sh", "-p", "nvme1n1", "-w", "4"),
                argvs.get(3).subList(3, argvs.get(3).size()));
        assertEquals(List.of(
                List.of("pgrep", "-f", "[p]fsdaemon -p nvme1n1( |$)"),
                List.of("pfs", "-C", "disk", "stat", "/nvme1n1/polar"),
                List.of("pfs", "-C", "disk", "stat", "/nvme1n1/polar/shared_data"),
                List.of("pfs", "-C", "disk", "mkdir", "/nvme1n1/polar/shared_data")), argvs.subList(4, argvs.size()));
        assertTrue(ex.argvs().stream().noneMatch(a -> a.contains("mkfs")));
    }

    @Test
    void pfsPrepareOnAnUnformattedDeviceFailsBeforePfsdStartsAndNeverFormats() {
        RecordingExecutor ex = new RecordingExecutor("node2");
        ex.on("lsblk").stdout(resource("/lsblk/tutorial.txt"));
        recorded(ex.on(PROBE.toArray(String[]::new)), "fresh-ls");
        recorded(ex.on("blkid"), "fresh-blkid");
        StorageException e = assertThrows(StorageException.class,
                () -> SharedStorage.pfs(PFS, PfsPath.of("/nvme1n1/shared_data"), 0).prepare(ex));
        assertTrue(e.getMessage().startsWith("node2 - /dev/nvme1n1 holds no PFS file system"), e.getMessage());
        assertTrue(e.getMessage().contains("PfsClient.mkfs(nvme1n1, MkfsMode.REFUSE_IF_FORMATTED)"), e.getMessage());
        assertEquals(StorageException.Reason.DEVICE_NOT_FORMATTED, e.reason());
        assertEquals(3, ex.commands().size(), "lsblk, the PFS probe, blkid (to tell empty from another file system)");
        assertTrue(ex.commands().stream().map(Command::argv).noneMatch(a -> a.contains("mkfs")));
    }

    @Test
    void pfsPrepareOnAnUnreadableDeviceIsStateUnknown() {
        RecordingExecutor ex = new RecordingExecutor("node2");
        ex.on("lsblk").stdout(resource("/lsblk/tutorial.txt"));
        recorded(ex.on(PROBE.toArray(String[]::new)), "unbound-ls");
        StorageException e = assertThrows(StorageException.class,
                () -> SharedStorage.pfs(PFS, PfsPath.of("/nvme1n1/shared_data"), 0).prepare(ex));
        assertEquals(StorageException.Reason.DEVICE_STATE_UNKNOWN, e.reason());
        assertTrue(e.getMessage().contains("io failed! error: -5"), e.getMessage());
    }

    @Test
    void pfsPrepareRefusesAMountedDeviceBeforeTouchingPfs() {
        RecordingExecutor ex = new RecordingExecutor("node1");
        ex.on("lsblk").stdout(resource("/lsblk/tutorial.txt"));
        assertThrows(StorageException.class,
                () -> SharedStorage.pfs(PFS, PfsPath.of("/nvme0n1/shared_data"), 0).prepare(ex));
        assertEquals(1, ex.commands().size());
    }
}
