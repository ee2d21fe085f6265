package dev.polarscale.storage.internal;

import dev.polarscale.storage.BlockDevice;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static dev.polarscale.storage.RecordingExecutor.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LsblkParserTest {

    private static final BlockDevice TUTORIAL_ROOT_DISK = new BlockDevice("nvme0n1", "259:1", false, 42949672960L,
            false, "disk", Optional.empty(), List.of(new BlockDevice("nvme0n1p1", "259:2", false, 42948624384L,
            false, "part", Optional.of("/"), List.of())));
    private static final BlockDevice TUTORIAL_DATA_DISK = new BlockDevice("nvme1n1", "259:0", false,
            107374182400L, false, "disk", Optional.empty(), List.of());

    @Test
    void readsTheTutorialLayout() {
        assertEquals(List.of(TUTORIAL_ROOT_DISK, TUTORIAL_DATA_DISK), LsblkParser.parsePairs(resource("/lsblk/tutorial.txt")));
    }

    @Test
    void readsFlagsAndAMountPointWithASpace() {
        assertEquals(List.of(TUTORIAL_ROOT_DISK, TUTORIAL_DATA_DISK,
                new BlockDevice("sr0", "11:0", true, 1073741312L, true, "rom", Optional.of("/media/cd rom"), List.of())),
                LsblkParser.parsePairs(resource("/lsblk/tutorial-with-cdrom.txt")));
    }

    @Test
    void readsThisMachinesRecordedOutputWithItsEscapesAndPartition() {
        List<BlockDevice> got = LsblkParser.parsePairs(resource("/lsblk/this-machine-2.38.txt"));
        assertEquals(List.of("loop0", "loop1", "loop2", "loop3", "loop4", "loop5", "zram0", "vda"),
                got.stream().map(BlockDevice::name).toList());
        BlockDevice loop1 = got.get(1);
        assertEquals("loop", loop1.type());
        assertEquals(12884901888L, loop1.sizeBytes());
        // recorded as MOUNTPOINT="/tmp/pfsx/my dir \x22q\x22 \xc3\xa9 \x24x\x5cb"
        assertEquals(Optional.of("/tmp/pfsx/my dir \"q\" é $x\\b"), loop1.mountpoint());
        assertTrue(got.get(3).readOnly());
        BlockDevice loop5 = got.get(5);
        assertEquals(List.of(new BlockDevice("loop5p1", "259:0", false, 21474836480L, false, "part",
                Optional.of("/tmp/pfsx/mnt5"), List.of())), loop5.children());
        assertEquals(Optional.of("/"), got.get(7).mountpoint());
    }

    @Test
    void rebuildsTheTreeFromPknameAndDecodesOldEscapes() {
        List<BlockDevice> got = LsblkParser.parsePairs(resource("/lsblk/tutorial-pairs-2.23.txt"));
        assertEquals(3, got.size());
        assertEquals(TUTORIAL_ROOT_DISK, got.get(0));
        assertEquals(TUTORIAL_DATA_DISK, got.get(1));
        BlockDevice lvm = got.get(2).children().get(0).children().get(0);
        assertEquals("vg0-data", lvm.name());
        assertEquals(Optional.of("/mnt/my data"), lvm.mountpoint());
        assertEquals(List.of("vg0-data on /mnt/my data"), got.get(2).mountedPaths());
    }

    @Test
    void aDeviceWithTwoParentsIsBelowEach() {
        List<BlockDevice> got = LsblkParser.parsePairs(resource("/lsblk/composed-san.txt"));
        assertEquals("mpatha", got.get(1).children().get(0).name());
        assertEquals("mpath", got.get(2).children().get(0).type());
        assertEquals(Optional.of("[SWAP]"), got.get(got.size() - 1).mountpoint());
    }

    @Test
    void acceptsTheShellSafeMajMinSpelling() {
        List<BlockDevice> got = LsblkParser.parsePairs(
                "NAME=\"vdb\" MAJ_MIN=\"254:16\" RM=\"0\" SIZE=\"1024\" RO=\"0\" TYPE=\"disk\" MOUNTPOINT=\"\" PKNAME=\"\"\n");
        assertEquals("254:16", got.get(0).majMin());
    }

    @Test
    void rejectsHumanReadableSizes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LsblkParser.parsePairs(
                "NAME=\"vda\" MAJ:MIN=\"254:0\" RM=\"0\" SIZE=\"256G\" RO=\"0\" TYPE=\"disk\" MOUNTPOINT=\"/\"\n"));
        assertEquals("lsblk -P line 1: SIZE is not a byte count (was -b given?): 256G", e.getMessage());
    }

    @Test
    void rejectsMissingColumnsBadFlagsAndGarbage() {
        String ok = "NAME=\"vda\" MAJ:MIN=\"254:0\" RM=\"0\" SIZE=\"1\" RO=\"0\" TYPE=\"disk\" MOUNTPOINT=\"\"";
        assertEquals(1, LsblkParser.parsePairs(ok + "\n").size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LsblkParser.parsePairs(ok.replace(" MOUNTPOINT=\"\"", "")));
        assertEquals("lsblk -P line 1: no MOUNTPOINT column", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LsblkParser.parsePairs(ok.replace("RM=\"0\"", "RM=\"2\"")));
        assertThrows(IllegalArgumentException.class, () -> LsblkParser.parsePairs("NAME=\"vda\" garbage\n"));
        assertThrows(IllegalArgumentException.class, () -> LsblkParser.parsePairs(ok + " NAME=\"vdb\""));
        assertEquals(List.of(), LsblkParser.parsePairs(""));
    }

    @Test
    void escapesAreBytesOfUtf8AndAnythingElseIsRefused() {
        assertEquals("/mnt/é x", LsblkParser.unescape("/mnt/\\xc3\\xa9\\x20x", 1));
        assertEquals("a\\b", LsblkParser.unescape("a\\x5cb", 1));
        assertEquals("plain", LsblkParser.unescape("plain", 1));
        assertThrows(IllegalArgumentException.class, () -> LsblkParser.unescape("/mnt/\\xc3", 1)); // half a character
        assertThrows(IllegalArgumentException.class, () -> LsblkParser.unescape("a\\b", 1));
        assertThrows(IllegalArgumentException.class, () -> LsblkParser.unescape("a\\x4", 1));
        assertThrows(IllegalArgumentException.class, () -> LsblkParser.unescape("a\\xzz", 1));
    }
}
