package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.core.PolarException.Reason;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BlockDevices#requireUsable} on real loop devices made from sparse images: a plain one is
 * accepted; read-only, too small, mounted and partitioned ones are refused, each with its reason.
 */
@ExtendWith(LoopDevice.Required.class)
class BlockDevicesIT {
    private static final long GIB = 1L << 30;

    @TempDir
    static Path tmp;
    private static final List<LoopDevice> devices = new ArrayList<>();
    private static CommandExecutor local;
    private static LoopDevice plain;
    private static LoopDevice readOnly;
    private static LoopDevice small;
    private static LoopDevice mounted;
    private static LoopDevice partitioned;

    @BeforeAll
    static void devices() throws IOException {
        local = Executors.local();
        plain = add(LoopDevice.create(tmp, "plain", "30G", false, false));
        readOnly = add(LoopDevice.create(tmp, "ro", "11G", true, false));
        small = add(LoopDevice.create(tmp, "small", "5G", false, false));
        mounted = add(LoopDevice.create(tmp, "mounted", "11G", false, false));
        local.run(Command.of("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=1,lazy_journal_init=1",
                mounted.name().devicePath()).withTimeout(Duration.ofMinutes(1)));
        Path mnt = Files.createDirectory(tmp.resolve("mnt"));
        local.run(Command.of("mount", mounted.name().devicePath(), mnt.toString()));
        mounted.mountedOn(mnt);
        writeDosPartitionTable(tmp.resolve("parted.img"), 2048, 20L * 1024 * 1024 * 2);
        partitioned = add(LoopDevice.create(tmp, "parted", "30G", false, true));
    }

    private static LoopDevice add(LoopDevice d) {
        devices.add(d);
        return d;
    }

    /** A DOS partition table with one Linux partition, written into the image before it is attached. */
    private static void writeDosPartitionTable(Path image, long startSector, long sectors) throws IOException {
        local.run(Command.of("truncate", "-s", "30G", image.toString()));
        ByteBuffer mbr = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        mbr.position(446 + 4).put((byte) 0x83);
        mbr.position(446 + 8).putInt((int) startSector).putInt((int) sectors);
        mbr.position(510).put((byte) 0x55).put((byte) 0xaa);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.write(mbr.array());
        }
    }

    @AfterAll
    static void cleanUp() {
        for (LoopDevice d : devices) {
            d.close();
        }
        if (local != null) {
            local.close();
        }
    }

    private static StorageException refused(LoopDevice d, long minimumBytes) {
        return refused(d.name(), minimumBytes);
    }

    private static StorageException refused(DeviceName d, long minimumBytes) {
        StorageException e = assertThrows(StorageException.class,
                () -> BlockDevices.on(local).requireUsable(d, minimumBytes));
        assertEquals(Reason.DEVICE_UNSUITABLE, e.reason());
        return e;
    }

    @Test
    void aPlainLoopDeviceIsAccepted() {
        BlockDevice d = BlockDevices.on(local).requireUsable(plain.name(), 30 * GIB);
        assertEquals("loop", d.type());
        assertEquals(30 * GIB, d.sizeBytes());
        assertEquals("localhost - block device " + plain.name().devicePath() + " has 32212254720 bytes, at least "
                + 31 * GIB + " are needed", refused(plain, 31 * GIB).getMessage());
    }

    @Test
    void aReadOnlyLoopDeviceIsRefused() {
        assertEquals("localhost - block device " + readOnly.name().devicePath() + " is read-only (RO=1)",
                refused(readOnly, 0).getMessage());
    }

    @Test
    void aLoopDeviceBelowOneChunkIsRefused() {
        assertEquals("localhost - block device " + small.name().devicePath() + " has 5368709120 bytes, at least "
                + "10737418240 are needed (PFS formats whole 10 GiB chunks)", refused(small, 0).getMessage());
    }

    @Test
    void aMountedLoopDeviceIsRefused() {
        assertEquals("localhost - block device " + mounted.name().devicePath() + " is mounted by the OS ("
                + mounted.name() + " on " + tmp.resolve("mnt") + "); PFS needs a device nothing else uses",
                refused(mounted, 0).getMessage());
    }

    @Test
    void aPartitionedLoopDeviceAndItsPartitionAreRefused() {
        DeviceName part = DeviceName.of(partitioned.name() + "p1");
        if (BlockDevices.on(local).find(part).isEmpty()) {
            local.execute(Command.of("partx", "-a", partitioned.name().devicePath()));
        }
        Assumptions.assumeTrue(BlockDevices.on(local).find(part).isPresent(),
                "the kernel made no partition device for " + partitioned.name() + " (losetup -P, partx -a)");
        assertEquals("localhost - block device " + partitioned.name().devicePath() + " has devices on it (" + part
                + " TYPE part); PFS needs a device nothing else uses", refused(partitioned, 0).getMessage());
        StorageException e = refused(part, 0);
        assertTrue(e.getMessage().contains(" is a partition (TYPE part): PFS takes a whole device"), e.getMessage());
    }
}
