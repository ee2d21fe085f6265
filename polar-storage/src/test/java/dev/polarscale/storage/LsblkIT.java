package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the real {@code lsblk} of this machine and checks the parsed tree against its plain output. */
class LsblkIT {

    @Test
    void parsedTopLevelDevicesMatchThePlainTable() {
        try (CommandExecutor local = Executors.local()) {
            List<BlockDevice> parsed = BlockDevices.on(local).list();
            String plain = local.run(Command.of("lsblk", "-b", "-n", "-d", "-o", "NAME,SIZE")).stdout();
            Map<String, Long> expected = new LinkedHashMap<>();
            for (String line : plain.split("\n")) {
                if (!line.isBlank()) {
                    String[] f = line.trim().split("\\s+");
                    expected.put(f[0], Long.parseLong(f[1]));
                }
            }
            Map<String, Long> got = new LinkedHashMap<>();
            for (BlockDevice d : parsed) {
                got.put(d.name(), d.sizeBytes());
            }
            assertFalse(expected.isEmpty(), "lsblk lists no device on this machine");
            assertEquals(expected, got);
        }
    }

    @Test
    void partitionsAndMountPointsMatchTheFullPlainTable() {
        try (CommandExecutor local = Executors.local()) {
            List<BlockDevice> parsed = BlockDevices.on(local).list();
            String plain = local.run(Command.of("lsblk", "-b", "-n", "-l", "-o", "NAME,TYPE,MOUNTPOINT")).stdout();
            Map<String, String> expected = new LinkedHashMap<>();
            for (String line : plain.split("\n")) {
                if (!line.isBlank()) {
                    String[] f = line.trim().split("\\s+", 3);
                    expected.put(f[0], f[1] + (f.length > 2 ? " " + f[2] : ""));
                }
            }
            Map<String, String> got = new LinkedHashMap<>();
            for (BlockDevice top : parsed) {
                top.walk(d -> got.put(d.name(), d.type() + d.mountpoint().map(m -> " " + m).orElse("")));
            }
            assertEquals(expected, got);
        }
    }

    @Test
    void theDeviceHoldingTheRootFileSystemIsRefused() {
        try (CommandExecutor local = Executors.local()) {
            BlockDevices devices = BlockDevices.on(local);
            BlockDevice rootDisk = devices.list().stream()
                    .filter(d -> d.mountedPaths().stream().anyMatch(m -> m.endsWith(" on /")))
                    .findFirst().orElse(null);
            org.junit.jupiter.api.Assumptions.assumeTrue(rootDisk != null,
                    "no block device holds / here (container root on an overlay?)");
            StorageException e = assertThrows(StorageException.class,
                    () -> devices.requireUsable(DeviceName.of(rootDisk.name()), 0));
            assertTrue(e.getMessage().startsWith("localhost - block device /dev/" + rootDisk.name()
                    + " is "), e.getMessage());
        }
    }
}
