package dev.polarscale.storage;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ValuesTest {

    @Test
    void deviceNameAcceptsBareAndDevForms() {
        assertEquals("nvme1n1", DeviceName.of("nvme1n1").name());
        assertEquals("nvme1n1", DeviceName.of("/dev/nvme1n1").name());
        assertEquals("/dev/nvme1n1", DeviceName.of("nvme1n1").devicePath());
        for (String bad : List.of("", "/dev/", "/dev/mapper/vg-lv", "../sda", "sda b", "sda;rm", "-sda", "sda\n",
                "/nvme1n1", "a".repeat(65))) {
            assertThrows(IllegalArgumentException.class, () -> DeviceName.of(bad), bad);
        }
    }

    @Test
    void pfsPathParsesAndRenders() {
        PfsPath p = PfsPath.of("/nvme1n1/shared_data/");
        assertEquals(DeviceName.of("nvme1n1"), p.disk());
        assertEquals(List.of("shared_data"), p.components());
        assertEquals("/nvme1n1/shared_data", p.toString());
        assertEquals("/nvme1n1/shared_data/", p.asDirectory());
        assertEquals(p, PfsPath.root(DeviceName.of("nvme1n1")).resolve("shared_data"));
        assertTrue(PfsPath.of("/nvme1n1").isRoot());
        assertEquals("/nvme1n1/", PfsPath.of("/nvme1n1/").asDirectory());
        assertFalse(p.isRoot());
    }

    @Test
    void pfsPathRejectsTraversalAndShellCharacters() {
        for (String bad : List.of("nvme1n1/x", "/nvme1n1/../x", "/nvme1n1/./x", "/nvme1n1//x", "/nvme1n1/a b",
                "/nvme1n1/a'b", "/nvme1n1/a\"b", "/nvme1n1/a\nb", "/nvme1n1/$HOME", "/", "//x")) {
            assertThrows(IllegalArgumentException.class, () -> PfsPath.of(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> PfsPath.of("/nvme1n1").resolve(".."));
    }
}
