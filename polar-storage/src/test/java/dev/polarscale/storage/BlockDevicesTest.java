package dev.polarscale.storage;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.polarscale.storage.RecordingExecutor.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockDevicesTest {
    private static final long GIB = 1L << 30;
    private static final List<String> JSON_ARGV =
            List.of("lsblk", "-J", "-b", "-o", "NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT");
    private static final List<String> PAIRS_ARGV =
            List.of("lsblk", "-b", "-P", "-o", "NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT,PKNAME");

    private static RecordingExecutor tutorialHost() {
        RecordingExecutor ex = new RecordingExecutor("node2");
        ex.on("lsblk", "-J").stdout(resource("/lsblk/tutorial-2.34.json"));
        return ex;
    }

    @Test
    void acceptsTheTutorialsUnmountedDataDisk() {
        RecordingExecutor ex = tutorialHost();
        BlockDevice d = BlockDevices.on(ex).requireUsable(DeviceName.of("/dev/nvme1n1"), 100 * GIB);
        assertEquals("nvme1n1", d.name());
        assertEquals(107374182400L, d.sizeBytes());
        assertEquals(List.of(JSON_ARGV), ex.argvs());
        assertTrue(!ex.commands().get(0).isPrivileged() && ex.commands().get(0).runAs().isEmpty());
    }

    @Test
    void rejectsTheDiskWhosePartitionIsMountedOnRoot() {
        StorageException e = assertThrows(StorageException.class,
                () -> BlockDevices.on(tutorialHost()).requireUsable(DeviceName.of("nvme0n1"), GIB));
        assertEquals("node2 - block device /dev/nvme0n1 is mounted by the OS (nvme0n1p1 on /); "
                + "PFS needs a device nothing else uses", e.getMessage());
    }

    @Test
    void rejectsAPartition() {
        StorageException e = assertThrows(StorageException.class,
                () -> BlockDevices.on(tutorialHost()).requireUsable(DeviceName.of("nvme0n1p1"), GIB));
        assertEquals("node2 - block device /dev/nvme0n1p1 is of TYPE part, not a whole disk (TYPE disk)",
                e.getMessage());
    }

    @Test
    void rejectsATooSmallDisk() {
        StorageException e = assertThrows(StorageException.class,
                () -> BlockDevices.on(tutorialHost()).requireUsable(DeviceName.of("nvme1n1"), 101 * GIB));
        assertEquals("node2 - block device /dev/nvme1n1 has 107374182400 bytes, at least 108447924224 are needed",
                e.getMessage());
    }

    @Test
    void rejectsAMissingDeviceAndListsWhatIsThere() {
        StorageException e = assertThrows(StorageException.class,
                () -> BlockDevices.on(tutorialHost()).requireUsable(DeviceName.of("sdb"), GIB));
        assertEquals("node2 - block device /dev/sdb is not listed by lsblk (devices: nvme0n1, nvme0n1p1, nvme1n1)",
                e.getMessage());
    }

    @Test
    void rejectsAReadOnlyDevice() {
        RecordingExecutor ex = new RecordingExecutor("node3");
        ex.on("lsblk", "-J").stdout(resource("/lsblk/tutorial-2.32-strings.json"));
        StorageException e = assertThrows(StorageException.class,
                () -> BlockDevices.on(ex).requireUsable(DeviceName.of("sr0"), 0));
        assertEquals("node3 - block device /dev/sr0 is of TYPE rom, not a whole disk (TYPE disk)", e.getMessage());
        ex.on("lsblk", "-J").stdout(resource("/lsblk/tutorial-2.34.json")
                .replace("\"size\":107374182400, \"ro\":false", "\"size\":107374182400, \"ro\":true"));
        e = assertThrows(StorageException.class,
                () -> BlockDevices.on(ex).requireUsable(DeviceName.of("nvme1n1"), 0));
        assertEquals("node3 - block device /dev/nvme1n1 is read-only (RO=1)", e.getMessage());
    }

    @Test
    void fallsBackToPairsWhenLsblkHasNoJson() {
        RecordingExecutor ex = new RecordingExecutor("centos7");
        ex.on("lsblk", "-J").reply(1, "", resource("/lsblk/lsblk-no-json.stderr"));
        ex.on("lsblk", "-b", "-P").stdout(resource("/lsblk/tutorial-pairs-2.23.txt"));
        BlockDevices devices = BlockDevices.on(ex);
        assertEquals(107374182400L, devices.requireUsable(DeviceName.of("nvme1n1"), 100 * GIB).sizeBytes());
        assertEquals(List.of(JSON_ARGV, PAIRS_ARGV), ex.argvs());
        StorageException e = assertThrows(StorageException.class,
                () -> devices.requireUsable(DeviceName.of("nvme2n1"), GIB));
        assertEquals("centos7 - block device /dev/nvme2n1 is mounted by the OS (vg0-data on /mnt/my data); "
                + "PFS needs a device nothing else uses", e.getMessage());
    }

    @Test
    void bothFormsFailingIsAStorageExceptionWithBothReasons() {
        RecordingExecutor ex = new RecordingExecutor("h");
        ex.on("lsblk", "-J").reply(1, "", "lsblk: invalid option -- 'J'\n");
        ex.on("lsblk", "-b", "-P").reply(1, "", "lsblk: unknown column: PKNAME\n");
        StorageException e = assertThrows(StorageException.class, () -> BlockDevices.on(ex).list());
        assertEquals("h - cannot list block devices: lsblk -J exited 1 (lsblk: invalid option -- 'J'), "
                + "lsblk -P exited 1 (lsblk: unknown column: PKNAME)", e.getMessage());
    }

    @Test
    void garbledJsonIsAStorageExceptionNotAFallback() {
        RecordingExecutor ex = new RecordingExecutor("h");
        ex.on("lsblk", "-J").stdout("{\"blockdevices\": [");
        StorageException e = assertThrows(StorageException.class, () -> BlockDevices.on(ex).list());
        assertTrue(e.getMessage().startsWith("h - cannot read the output of lsblk -J: invalid JSON at offset 18"),
                e.getMessage());
        assertEquals(1, ex.commands().size());
    }
}
