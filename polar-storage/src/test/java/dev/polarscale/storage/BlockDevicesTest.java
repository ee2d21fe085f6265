package dev.polarscale.storage;

import dev.polarscale.core.PolarException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.polarscale.storage.RecordingExecutor.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockDevicesTest {
    private static final long GIB = 1L << 30;
    private static final List<String> LSBLK_ARGV =
            List.of("lsblk", "-b", "-P", "-o", "NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT,PKNAME");

    private static RecordingExecutor host(String name, String fixture) {
        RecordingExecutor ex = new RecordingExecutor(name);
        ex.on("lsblk").stdout(resource("/lsblk/" + fixture));
        return ex;
    }

    private static StorageException refused(RecordingExecutor ex, String device, long minimumBytes) {
        StorageException e = assertThrows(StorageException.class,
                () -> BlockDevices.on(ex).requireUsable(DeviceName.of(device), minimumBytes));
        assertEquals(PolarException.Reason.DEVICE_UNSUITABLE, e.reason());
        assertEquals(ex.host(), e.host().orElseThrow());
        return e;
    }

    @Test
    void acceptsTheTutorialsUnmountedDataDisk() {
        RecordingExecutor ex = host("node2", "tutorial.txt");
        BlockDevice d = BlockDevices.on(ex).requireUsable(DeviceName.of("/dev/nvme1n1"), 100 * GIB);
        assertEquals("nvme1n1", d.name());
        assertEquals(107374182400L, d.sizeBytes());
        assertEquals(List.of(LSBLK_ARGV), ex.argvs());
        assertTrue(!ex.commands().get(0).isPrivileged() && ex.commands().get(0).runAs().isEmpty());
    }

    @Test
    void acceptsLoopDevicesOfThisMachine() {
        RecordingExecutor ex = host("dev", "this-machine-2.38.txt");
        assertEquals("loop", BlockDevices.on(ex).requireUsable(DeviceName.of("loop0"), 30 * GIB).type());
        assertEquals(32212254720L, BlockDevices.on(ex).requireUsable(DeviceName.of("loop2"), 0).sizeBytes());
    }

    @Test
    void acceptsMultipathNbdAndRbdDevices() {
        RecordingExecutor ex = host("san", "composed-san.txt");
        BlockDevices devices = BlockDevices.on(ex);
        assertEquals("mpath", devices.requireUsable(DeviceName.of("mpatha"), 100 * GIB).type());
        assertEquals("disk", devices.requireUsable(DeviceName.of("nbd0"), 50 * GIB).type());
        assertEquals("disk", devices.requireUsable(DeviceName.of("rbd0"), 50 * GIB).type());
    }

    @Test
    void rejectsTheDiskWhosePartitionIsMountedOnRoot() {
        assertEquals("node2 - block device /dev/nvme0n1 is mounted by the OS (nvme0n1p1 on /); "
                + "PFS needs a device nothing else uses",
                refused(host("node2", "tutorial.txt"), "nvme0n1", GIB).getMessage());
        assertEquals("dev - block device /dev/loop5 is mounted by the OS (loop5p1 on /tmp/pfsx/mnt5); "
                + "PFS needs a device nothing else uses",
                refused(host("dev", "this-machine-2.38.txt"), "loop5", 0).getMessage());
    }

    @Test
    void rejectsAMountedLoopDeviceNamingItsDecodedMountPoint() {
        assertEquals("dev - block device /dev/loop1 is mounted by the OS (loop1 on /tmp/pfsx/my dir \"q\" é $x\\b); "
                + "PFS needs a device nothing else uses",
                refused(host("dev", "this-machine-2.38.txt"), "loop1", 0).getMessage());
        assertEquals("san - block device /dev/sdd is mounted by the OS (sdd on [SWAP]); "
                + "PFS needs a device nothing else uses",
                refused(host("san", "composed-san.txt"), "sdd", 0).getMessage());
    }

    @Test
    void rejectsAnyPartitionMountedOrNot() {
        assertEquals("node2 - block device /dev/nvme0n1p1 is a partition (TYPE part): PFS takes a whole device "
                + "(TYPE disk, loop, mpath)", refused(host("node2", "tutorial.txt"), "nvme0n1p1", GIB).getMessage());
        assertEquals("dev - block device /dev/loop5p1 is a partition (TYPE part): PFS takes a whole device "
                + "(TYPE disk, loop, mpath)", refused(host("dev", "this-machine-2.38.txt"), "loop5p1", 0).getMessage());
        RecordingExecutor centos = host("centos7", "tutorial-pairs-2.23.txt");
        assertTrue(refused(centos, "nvme2n1p1", 0).getMessage().contains("is a partition (TYPE part)"));
    }

    @Test
    void rejectsKindsThatCannotCarrySharedStorage() {
        assertEquals("node3 - block device /dev/sr0 is of TYPE rom, which cannot carry shared storage "
                + "(TYPE disk, loop, mpath can)", refused(host("node3", "tutorial-with-cdrom.txt"), "sr0", 0).getMessage());
        RecordingExecutor san = host("san", "composed-san.txt");
        assertTrue(refused(san, "vg0-data", 0).getMessage().contains("is of TYPE lvm,"));
        assertTrue(refused(san, "md0", 0).getMessage().contains("is of TYPE raid1,"));
    }

    @Test
    void rejectsADeviceOthersAreStackedOn() {
        assertEquals("san - block device /dev/sdb has devices on it (mpatha TYPE mpath); "
                + "PFS needs a device nothing else uses", refused(host("san", "composed-san.txt"), "sdb", 0).getMessage());
    }

    @Test
    void rejectsATooSmallDevice() {
        assertEquals("node2 - block device /dev/nvme1n1 has 107374182400 bytes, at least 108447924224 are needed",
                refused(host("node2", "tutorial.txt"), "nvme1n1", 101 * GIB).getMessage());
        assertEquals("dev - block device /dev/loop4 has 5368709120 bytes, at least 10737418240 are needed "
                + "(PFS formats whole 10 GiB chunks)", refused(host("dev", "this-machine-2.38.txt"), "loop4", 0).getMessage());
    }

    @Test
    void rejectsAMissingDeviceAndListsWhatIsThere() {
        assertEquals("node2 - block device /dev/sdb is not listed by lsblk (devices: nvme0n1, nvme0n1p1, nvme1n1)",
                refused(host("node2", "tutorial.txt"), "sdb", GIB).getMessage());
    }

    @Test
    void rejectsAReadOnlyDevice() {
        assertEquals("dev - block device /dev/loop3 is read-only (RO=1)",
                refused(host("dev", "this-machine-2.38.txt"), "loop3", 0).getMessage());
    }

    @Test
    void readsTheOldEscapesOfUtilLinux223() {
        RecordingExecutor ex = host("centos7", "tutorial-pairs-2.23.txt");
        BlockDevices devices = BlockDevices.on(ex);
        assertEquals(107374182400L, devices.requireUsable(DeviceName.of("nvme1n1"), 100 * GIB).sizeBytes());
        assertEquals("centos7 - block device /dev/nvme2n1 is mounted by the OS (vg0-data on /mnt/my data); "
                + "PFS needs a device nothing else uses", refused(ex, "nvme2n1", GIB).getMessage());
        assertEquals(List.of(LSBLK_ARGV, LSBLK_ARGV), ex.argvs());
    }

    @Test
    void aFailingLsblkIsAStorageExceptionWithItsReason() {
        RecordingExecutor ex = new RecordingExecutor("h");
        ex.on("lsblk").reply(1, "", "lsblk: unknown column: PKNAME\n");
        StorageException e = assertThrows(StorageException.class, () -> BlockDevices.on(ex).list());
        assertEquals("h - cannot list block devices: lsblk exited 1 (lsblk: unknown column: PKNAME)", e.getMessage());
        assertEquals(PolarException.Reason.COMMAND_FAILED, e.reason());
    }

    @Test
    void garbledOutputIsAStorageException() {
        RecordingExecutor ex = new RecordingExecutor("h");
        ex.on("lsblk").stdout("NAME=\"vda\" MAJ:MIN=\"254:0\" RM=\"0\" SIZE=\"1\" RO=\"0\" TYPE=\"disk\" MOUNTPOINT=\"/x\\y\"\n");
        StorageException e = assertThrows(StorageException.class, () -> BlockDevices.on(ex).list());
        assertEquals("h - cannot read the output of lsblk -P: lsblk -P line 1: a \\ that is not a \\xHH escape in '/x\\y'",
                e.getMessage());
        assertEquals(1, ex.commands().size());
    }
}
