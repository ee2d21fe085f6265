package dev.polarscale.storage.internal;

import dev.polarscale.storage.BlockDevice;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static dev.polarscale.storage.RecordingExecutor.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LsblkParserTest {

    private static final BlockDevice TUTORIAL_ROOT_DISK = new BlockDevice("nvme0n1", "259:1", false, 42949672960L,
            false, "disk", Optional.empty(), List.of(new BlockDevice("nvme0n1p1", "259:2", false, 42948624384L,
            false, "part", Optional.of("/"), List.of())));
    private static final BlockDevice TUTORIAL_DATA_DISK = new BlockDevice("nvme1n1", "259:0", false,
            107374182400L, false, "disk", Optional.empty(), List.of());

    @Test
    void readsTheTutorialLayoutFromModernJson() {
        assertEquals(List.of(TUTORIAL_ROOT_DISK, TUTORIAL_DATA_DISK),
                LsblkParser.parseJson(resource("/lsblk/tutorial-2.34.json")));
    }

    @Test
    void readsOldJsonWhereEveryValueIsAString() {
        List<BlockDevice> got = LsblkParser.parseJson(resource("/lsblk/tutorial-2.32-strings.json"));
        assertEquals(List.of(TUTORIAL_ROOT_DISK, TUTORIAL_DATA_DISK,
                new BlockDevice("sr0", "11:0", true, 1073741312L, true, "rom", Optional.of("/media/cd rom"), List.of())),
                got);
    }

    @Test
    void readsThisMachinesRecordedOutput() {
        List<BlockDevice> got = LsblkParser.parseJson(resource("/lsblk/this-machine-2.38.json"));
        assertFalse(got.isEmpty());
        for (BlockDevice d : got) {
            assertTrue(d.sizeBytes() >= 0);
        }
    }

    @Test
    void readsPairsAndRebuildsTheTreeFromPkname() {
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
    void acceptsTheShellSafeMajMinSpelling() {
        List<BlockDevice> got = LsblkParser.parsePairs(
                "NAME=\"vdb\" MAJ_MIN=\"254:16\" RM=\"0\" SIZE=\"1024\" RO=\"0\" TYPE=\"disk\" MOUNTPOINT=\"\" PKNAME=\"\"\n");
        assertEquals("254:16", got.get(0).majMin());
    }

    @Test
    void rejectsHumanReadableSizes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LsblkParser.parseJson(
                "{\"blockdevices\":[{\"name\":\"vda\",\"maj:min\":\"254:0\",\"rm\":false,\"size\":\"256G\","
                        + "\"ro\":false,\"type\":\"disk\",\"mountpoint\":null}]}"));
        assertEquals("lsblk JSON: \"size\" of vda is not a byte count (was -b given?): 256G", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LsblkParser.parsePairs(
                "NAME=\"vda\" MAJ:MIN=\"254:0\" RM=\"0\" SIZE=\"256G\" RO=\"0\" TYPE=\"disk\" MOUNTPOINT=\"/\"\n"));
        assertEquals("lsblk -P line 1: SIZE is not a byte count (was -b given?): 256G", e.getMessage());
    }

    @Test
    void rejectsMissingColumnsAndBadFlags() {
        assertThrows(IllegalArgumentException.class, () -> LsblkParser.parseJson(
                "{\"blockdevices\":[{\"name\":\"vda\",\"maj:min\":\"254:0\",\"rm\":false,\"size\":1,"
                        + "\"ro\":false,\"type\":\"disk\"}]}"));
        assertThrows(IllegalArgumentException.class, () -> LsblkParser.parseJson(
                "{\"blockdevices\":[{\"name\":\"vda\",\"maj:min\":\"254:0\",\"rm\":\"2\",\"size\":1,"
                        + "\"ro\":false,\"type\":\"disk\",\"mountpoint\":null}]}"));
        assertThrows(IllegalArgumentException.class, () -> LsblkParser.parseJson("{\"devices\":[]}"));
        assertThrows(IllegalArgumentException.class, () -> LsblkParser.parsePairs("NAME=\"vda\" garbage\n"));
        assertEquals(List.of(), LsblkParser.parseJson("{\"blockdevices\":[]}"));
    }
}
