package dev.polarscale.storage;

import dev.polarscale.core.Command;
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

    @Test
    void pfsPrepareChecksTheDeviceStartsPfsdAndCreatesOnlyMissingDirectories() {
        RecordingExecutor ex = new RecordingExecutor("node2");
        ex.on("lsblk").stdout(resource("/lsblk/tutorial.txt"));
        ex.on("pgrep").exit(1).exit(0);
        ex.on("/usr/local/polarstore/pfsd/bin/start_pfsd.sh").exit(0);
        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/").stdout("  Dir  1  128  Wed Jul 11 00:04:55 2018  polar\n");
        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/polar").exit(0);
        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/polar/shared_data").exit(1);
        ex.on("pfs", "-C", "disk", "mkdir").exit(0);
        SharedStorage.pfs(PFS, PfsPath.of("/nvme1n1/polar/shared_data"), 100L << 30).prepare(ex);
        assertEquals(List.of(
                List.of("lsblk", "-b", "-P", "-o", "NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT,PKNAME"),
                List.of("pgrep", "-f", "[p]fsdaemon -p nvme1n1( |$)"),
                List.of("/usr/local/polarstore/pfsd/bin/start_pfsd.sh", "-p", "nvme1n1", "-w", "4"),
                List.of("pgrep", "-f", "[p]fsdaemon -p nvme1n1( |$)"),
                List.of("pfs", "-C", "disk", "ls", "/nvme1n1/"),
                List.of("pfs", "-C", "disk", "ls", "/nvme1n1/polar"),
                List.of("pfs", "-C", "disk", "ls", "/nvme1n1/polar/shared_data"),
                List.of("pfs", "-C", "disk", "mkdir", "/nvme1n1/polar/shared_data")), ex.argvs());
        assertTrue(ex.argvs().stream().noneMatch(a -> a.contains("mkfs")));
    }

    @Test
    void pfsPrepareOnAnUnformattedDeviceFailsAndNeverFormats() {
        RecordingExecutor ex = new RecordingExecutor("node2");
        ex.on("lsblk").stdout(resource("/lsblk/tutorial.txt"));
        ex.on("pgrep").exit(0);
        ex.on("pfs", "-C", "disk", "ls").exit(1);
        StorageException e = assertThrows(StorageException.class,
                () -> SharedStorage.pfs(PFS, PfsPath.of("/nvme1n1/shared_data"), 0).prepare(ex));
        assertTrue(e.getMessage().startsWith("node2 - /dev/nvme1n1 holds no PFS file system"), e.getMessage());
        assertTrue(ex.commands().stream().map(Command::argv).noneMatch(a -> a.contains("mkfs")));
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
