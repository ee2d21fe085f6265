package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.core.PolarException.Reason;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The PFS tools of the engines bundle on a real, sparse 30 GiB loop device (and a 12 GiB one holding
 * ext4): formatting and its refusals, pfsd, directories, {@link SharedStorage#prepare}, capacity.
 * The tests run in order on one device, each leaving the state the next one starts from.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(PfsTools.Required.class)
class PfsIT {
    @TempDir
    static Path tmp;
    private static LoopDevice disk;
    private static LoopDevice ext4;
    private static CommandExecutor local;
    private static Pfs pfs;
    private static PfsClient client;
    private static DeviceName dev;
    private static AutoCloseable hostCleanUp;

    @BeforeAll
    static void devices() {
        Path bin = PfsTools.bin();
        local = Executors.local();
        PfsTools.HostDirs hostDirs = PfsTools.HostDirs.before();
        hostCleanUp = PfsTools.atExit("pfs-it-cleanup", () -> {
            try (CommandExecutor l = Executors.local()) {
                hostDirs.restore(l);
            }
        });
        pfs = PfsTools.pfs(bin);
        client = pfs.on(local);
        disk = LoopDevice.create(tmp, "pfs", "30G", false, false);
        dev = disk.name();
        ext4 = LoopDevice.create(tmp, "ext4", "12G", false, false);
        local.run(Command.of("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=1,lazy_journal_init=1",
                ext4.name().devicePath()).withTimeout(Duration.ofMinutes(1)));
    }

    @AfterAll
    static void cleanUp() throws Exception {
        try {
            if (disk != null) {
                disk.close();
            }
        } finally {
            try {
                if (ext4 != null) {
                    ext4.close();
                }
            } finally {
                try {
                    if (hostCleanUp != null) {
                        hostCleanUp.close();
                    }
                } finally {
                    if (local != null) {
                        local.close();
                    }
                }
            }
        }
    }

    private static List<String> pfsArgv(String... args) {
        List<String> argv = new java.util.ArrayList<>(List.of(pfs.pfsCommand(), "-C", "disk"));
        argv.addAll(List.of(args));
        return argv;
    }

    /** {@code pfs -C disk -E 0 ARGS}: straight to the device, not through a pfsd (which would be waited for). */
    private static List<String> direct(String... args) {
        List<String> argv = new java.util.ArrayList<>(List.of(pfs.pfsCommand(), "-C", "disk", "-E", "0"));
        argv.addAll(List.of(args));
        return local.run(Command.of(argv).withTimeout(Duration.ofMinutes(1))).stdout().lines()
                .filter(l -> !l.startsWith("total ")).map(l -> l.substring(l.lastIndexOf(' ') + 1)).toList();
    }

    @Test
    @Order(1)
    void mkfsFormatsAFreshDevice() {
        assertFalse(client.isFormatted(dev));
        client.mkfs(dev, MkfsMode.REFUSE_IF_FORMATTED);
        assertTrue(client.isFormatted(dev));
        assertEquals(List.of(".pfs-paxos", ".pfs-journal"), direct("ls", "/" + dev + "/"));
    }

    @Test
    @Order(2)
    void mkfsAgainRefusesTheFormattedDevice() {
        StorageException e = assertThrows(StorageException.class, () -> client.mkfs(dev, MkfsMode.REFUSE_IF_FORMATTED));
        assertEquals(Reason.DEVICE_NOT_EMPTY, e.reason());
        assertEquals("localhost - refusing to format " + dev.devicePath() + ": it already holds a PFS file system "
                + "(pfs -C disk ls /" + dev + "/ succeeds); pass MkfsMode.FORCE_DESTROYING_EXISTING to destroy it",
                e.getMessage());
    }

    @Test
    @Order(3)
    void mkfsRefusesAnExt4DeviceAndLeavesItAlone() {
        DeviceName e4 = ext4.name();
        assertFalse(client.isFormatted(e4), "PFS itself sees no file system on ext4");
        StorageException e = assertThrows(StorageException.class, () -> client.mkfs(e4, MkfsMode.REFUSE_IF_FORMATTED));
        assertEquals(Reason.DEVICE_NOT_EMPTY, e.reason());
        assertTrue(e.getMessage().contains("it holds a file system (blkid -p: ") && e.getMessage().contains("TYPE=ext4"),
                e.getMessage());
        assertTrue(local.run(Command.of("blkid", "-p", "-o", "export", e4.devicePath())).stdout().contains("TYPE=ext4"));
    }

    @Test
    @Order(4)
    void forceReformatsAFormattedDevice() {
        direct("mkdir", "/" + dev + "/marker");
        assertEquals(List.of(".pfs-paxos", ".pfs-journal", "marker"), direct("ls", "/" + dev + "/"));
        client.mkfs(dev, MkfsMode.FORCE_DESTROYING_EXISTING);
        assertEquals(List.of(".pfs-paxos", ".pfs-journal"), direct("ls", "/" + dev + "/"));
    }

    @Test
    @Order(5)
    void pfsdStartsOnceIsSeenRunningAndRefusesMkfsUnderIt() {
        assertFalse(client.isDaemonRunning(dev));
        long t0 = System.nanoTime();
        assertTrue(client.ensureDaemonRunning(dev));
        assertTrue(Duration.ofNanos(System.nanoTime() - t0).toSeconds() < 30, "start_pfsd.sh held the executor");
        assertTrue(client.isDaemonRunning(dev));
        assertFalse(client.ensureDaemonRunning(dev));
        // "pfsd busy": no formatting under a running daemon, forced or not
        for (MkfsMode mode : MkfsMode.values()) {
            StorageException e = assertThrows(StorageException.class, () -> client.mkfs(dev, mode));
            assertEquals(Reason.DEVICE_STATE_UNKNOWN, e.reason());
            assertTrue(e.getMessage().contains(": pfsd runs for it (pid "), e.getMessage());
        }
    }

    @Test
    @Order(6)
    void mkdirLsAndStatThroughPfsdThenItStops() {
        PfsPath shared = PfsPath.root(dev).resolve("shared_data");
        assertFalse(client.exists(shared));
        client.mkdir(shared);
        assertTrue(client.exists(shared));
        assertEquals(List.of(".pfs-paxos", ".pfs-journal", "shared_data"), client.ls(PfsPath.root(dev)));
        assertEquals(List.of(), client.ls(shared));
        assertThrows(dev.polarscale.core.CommandFailedException.class, () -> client.mkdir(shared));
        StorageException e = assertThrows(StorageException.class, () -> client.ls(shared.resolve("nope")));
        assertTrue(e.getMessage().endsWith("ls failed: No such file or directory"), e.getMessage());
        client.stopDaemon(dev);
        assertFalse(client.isDaemonRunning(dev));
    }

    @Test
    @Order(7)
    void prepareOnTheRealDeviceChecksItStartsPfsdAndCreatesTheDirectories() {
        SharedStorage storage = SharedStorage.pfs(pfs, PfsPath.root(dev).resolve("polar").resolve("shared_data"), 20L << 30);
        assertEquals(List.of(".pfs-paxos", ".pfs-journal", "shared_data"), direct("ls", "/" + dev + "/"));
        storage.prepare(local);
        assertTrue(client.isDaemonRunning(dev));
        assertTrue(storage.exists(local));
        assertEquals(List.of(), storage.list(local));
        storage.prepare(local); // idempotent
        assertEquals(List.of(".pfs-paxos", ".pfs-journal", "shared_data", "polar"), client.ls(PfsPath.root(dev)));
        StorageException e = assertThrows(StorageException.class,
                () -> SharedStorage.pfs(pfs, PfsPath.root(dev).resolve("x"), 31L << 30).prepare(local));
        assertEquals(Reason.DEVICE_UNSUITABLE, e.reason());
    }

    @Test
    @Order(8)
    void infoHasTheCapacityAndRoomIsRefusedWhenTooLittleIsLeft() {
        PfsInfo fresh = client.info(dev);
        assertEquals(3, fresh.chunks());
        assertEquals(3 * 2560, fresh.blocks());
        assertEquals(3 * 2048, fresh.inodes());
        assertTrue(fresh.freeBlocks() > 7000 && fresh.freeFiles() > 6000, fresh.toString());
        client.requireRoomForPrimary(dev);
        // take all but 1,000 blocks (pfs fallocate only allocates: the sparse image stays small)
        PfsPath filler = PfsPath.root(dev).resolve("filler");
        local.run(Command.of(pfsArgv("touch", filler.toString())).withTimeout(Duration.ofMinutes(1)));
        long bytes = (fresh.freeBlocks() - 1000) * PfsInfo.BLOCK_BYTES;
        local.run(Command.of(pfsArgv("fallocate", "-o", "0", "-l", Long.toString(bytes), filler.toString()))
                .withTimeout(Duration.ofMinutes(1)));
        PfsInfo full = client.info(dev);
        assertTrue(full.freeBlocks() <= 1000 && full.freeBlocks() > 900, full.toString());
        StorageException e = assertThrows(StorageException.class, () -> client.requireRoomForPrimary(dev));
        assertEquals(Reason.DEVICE_UNSUITABLE, e.reason());
        assertTrue(e.getMessage().startsWith("localhost - PFS on " + dev.devicePath() + " has " + full.freeBlocks()
                + " free 4 MiB blocks"), e.getMessage());
        assertTrue(e.getMessage().endsWith("1550 blocks (6.1 GiB) and 1400 files are needed"), e.getMessage());
        local.run(Command.of(pfsArgv("rm", filler.toString())).withTimeout(Duration.ofMinutes(1)));
        assertEquals(fresh.freeBlocks(), client.info(dev).freeBlocks());
    }
}
