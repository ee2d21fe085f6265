package dev.polarscale.storage;

import dev.polarscale.core.PolarException.Reason;
import dev.polarscale.storage.internal.PfsTrace;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.polarscale.storage.RecordingExecutor.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The calls a deploy and a replica make on PFS storage, on recorded tool output: what runs, what is refused. */
class PfsSharedStorageTest {
    private static final Pfs PFS = Pfs.builder().clusterName("disk").workers(1).build();
    private static final DeviceName DEV = DeviceName.of("nvme1n1");
    private static final PfsSharedStorage STORAGE = SharedStorage.pfs(PFS, PfsPath.of("/nvme1n1/polar/shared_data"), 0);
    private static final List<String> PROBE = PfsTrace.argv(DEV, List.of("pfs", "-C", "disk", "-E", "0", "ls", "/nvme1n1/"));

    private static void recorded(RecordingExecutor.Rule rule, String name) {
        rule.reply(Integer.parseInt(resource("/pfs/" + name + ".exit").strip()), resource("/pfs/" + name + ".stdout"),
                resource("/pfs/" + name + ".stderr"));
    }

    private static String dir(String... names) {
        StringBuilder sb = new StringBuilder();
        for (String n : names) {
            boolean file = n.startsWith(".pfs-");
            sb.append(file ? "  File  1     4194304           " : "   Dir  1     0                 ")
                    .append("Wed Nov 25 15:28:09 2026  ").append(n).append('\n');
        }
        return sb.append("total 0 (unit: 512Bytes)\n").toString();
    }

    private static RecordingExecutor attached() {
        RecordingExecutor ex = new RecordingExecutor("node1");
        ex.on("lsblk").stdout(resource("/lsblk/tutorial.txt"));
        recorded(ex.on(PROBE.toArray(String[]::new)), "pfs-ls");
        recorded(ex.on("pgrep"), "pfsd-pgrep");
        return ex;
    }

    @Test
    void attachToAnExt4DeviceIsRefusedBeforePfsdAndSaysWhatItHolds() {
        RecordingExecutor ex = new RecordingExecutor("node1");
        ex.on("lsblk").stdout(resource("/lsblk/tutorial.txt"));
        recorded(ex.on(PROBE.toArray(String[]::new)), "ext4-ls");
        recorded(ex.on("blkid"), "ext4-blkid");
        StorageException e = assertThrows(StorageException.class, () -> STORAGE.attach(ex));
        assertEquals(Reason.DEVICE_NOT_EMPTY, e.reason());
        assertTrue(e.getMessage().startsWith("node1 - /dev/nvme1n1 holds no PFS file system but a file system (blkid -p: "
                + "UUID="), e.getMessage());
        assertTrue(e.getMessage().contains("TYPE=ext4") && e.getMessage().contains("never formats"), e.getMessage());
        assertEquals(3, ex.commands().size(), "lsblk, probe, blkid; no pgrep, no start, no mkfs: " + ex.argvs());
    }

    @Test
    void attachToAFormattedDeviceWithPfsdRunningStartsNothing() {
        RecordingExecutor ex = attached();
        STORAGE.attach(ex);
        assertEquals(List.of("lsblk", PROBE.get(0), "pgrep"), ex.argvs().stream().map(a -> a.get(0)).toList());
    }

    @Test
    void aNewClusterNeedsAnEmptyDirectoryNoOtherDataAndRoom() {
        RecordingExecutor ex = attached();
        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/").stdout(dir(".pfs-paxos", ".pfs-journal", "polar", "empty"));
        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/empty/").stdout(dir());
        recorded(ex.on("pfs", "-C", "disk", "stat"), "stat-dir");
        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/polar/").stdout(dir("shared_data"));
        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/polar/shared_data/").stdout(dir());
        recorded(ex.on("sh", "-c", PfsTrace.SCRIPT, "sh", "/var/log/pfs-nvme1n1.log", "pfs", "-C", "disk", "info"), "pfs-info");
        PfsInfo info = STORAGE.requireRoomForNewCluster(ex);
        assertEquals(7420, info.freeBlocks());
        assertTrue(ex.argvs().stream().noneMatch(a -> a.contains("mkdir") || a.contains("mkfs") || a.contains("rm")),
                "writes nothing: " + ex.argvs());

        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/polar/shared_data/").stdout(dir("base", "global"));
        StorageException full = assertThrows(StorageException.class, () -> STORAGE.requireRoomForNewCluster(ex));
        assertEquals(Reason.DIRECTORY_NOT_EMPTY, full.reason());
        assertTrue(full.getMessage().startsWith("node1 - the PFS directory /nvme1n1/polar/shared_data is not empty "
                + "(base, global)"), full.getMessage());
        assertTrue(full.getMessage().endsWith("as root: pfs -C disk rm -r /nvme1n1/polar/shared_data"), full.getMessage());

        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/").stdout(dir(".pfs-paxos", ".pfs-journal", "polar", "other_cluster"));
        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/other_cluster/").stdout(dir("base", "global"));
        StorageException other = assertThrows(StorageException.class, () -> STORAGE.requireRoomForNewCluster(ex));
        assertEquals(Reason.STORAGE_INVALID, other.reason());
        assertTrue(other.getMessage().contains("already holds data outside /nvme1n1/polar/shared_data: /nvme1n1/ has "
                + "other_cluster. A second primary on one PFS would be a second writer"), other.getMessage());
    }

    @Test
    void anAbsentDirectoryIsFineForANewCluster() {
        RecordingExecutor ex = attached();
        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/").stdout(dir(".pfs-paxos", ".pfs-journal"));
        recorded(ex.on("pfs", "-C", "disk", "stat", "/nvme1n1/polar"), "stat-missing");
        recorded(ex.on("sh", "-c", PfsTrace.SCRIPT, "sh", "/var/log/pfs-nvme1n1.log", "pfs", "-C", "disk", "info"), "pfs-info");
        STORAGE.requireRoomForNewCluster(ex);
        assertFalse(ex.argvs().stream().anyMatch(a -> a.contains("/nvme1n1/polar/")), ex.argvs().toString());
    }

    @Test
    void mountNeverCreatesTheDirectoryAndRefusesOneWithoutACluster() {
        RecordingExecutor ex = attached();
        recorded(ex.on("pfs", "-C", "disk", "stat", "/nvme1n1/polar/shared_data/global/pg_control"), "stat-missing");
        StorageException e = assertThrows(StorageException.class, () -> STORAGE.mount(ex));
        assertEquals(Reason.STORAGE_INVALID, e.reason());
        assertTrue(e.getMessage().startsWith("node1 - /nvme1n1/polar/shared_data/global/pg_control does not exist on "
                + "/dev/nvme1n1"), e.getMessage());
        assertTrue(ex.argvs().stream().noneMatch(a -> a.contains("mkdir") || a.contains("mkfs")), ex.argvs().toString());

        RecordingExecutor ok = attached();
        recorded(ok.on("pfs", "-C", "disk", "stat", "/nvme1n1/polar/shared_data/global/pg_control"), "stat-dir");
        STORAGE.mount(ok);
    }

    @Test
    void deleteContentsRemovesEachEntryAndKeepsTheDirectory() {
        RecordingExecutor ex = new RecordingExecutor("node1");
        ex.on("pfs", "-C", "disk", "ls", "/nvme1n1/polar/shared_data/").stdout(dir("base", "global"));
        ex.on("pfs", "-C", "disk", "rm").exit(0);
        STORAGE.deleteContents(ex);
        assertEquals(List.of(List.of("pfs", "-C", "disk", "ls", "/nvme1n1/polar/shared_data/"),
                List.of("pfs", "-C", "disk", "rm", "-r", "/nvme1n1/polar/shared_data/base"),
                List.of("pfs", "-C", "disk", "rm", "-r", "/nvme1n1/polar/shared_data/global")), ex.argvs());
        assertTrue(ex.commands().stream().allMatch(c -> c.isPrivileged()));
    }

    @Test
    void formatRunsTheGuardedMkfsAfterTheDeviceCheck() {
        RecordingExecutor ex = new RecordingExecutor("node1");
        ex.on("lsblk").stdout(resource("/lsblk/tutorial.txt"));
        recorded(ex.on("pgrep"), "pfsd-pgrep-none");
        recorded(ex.on("blkid"), "ext4-blkid");
        StorageException e = assertThrows(StorageException.class, () -> STORAGE.formatEmptyDevice(ex));
        assertEquals(Reason.DEVICE_NOT_EMPTY, e.reason());
        assertTrue(ex.argvs().stream().noneMatch(a -> a.contains("mkfs")), ex.argvs().toString());
        assertEquals("lsblk", ex.argvs().get(0).get(0));
    }

    @Test
    void plansShowTheCommandsAndOnlyFormatFormats() {
        for (PfsSharedStorage.Phase p : PfsSharedStorage.Phase.values()) {
            String plan = String.join("\n", STORAGE.commands(p));
            assertEquals(p == PfsSharedStorage.Phase.FORMAT, plan.contains("mkfs"), p + ":\n" + plan);
        }
        assertEquals(List.of(
                "lsblk -b -P -o NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT,PKNAME  -- /dev/nvme1n1: a whole disk, multipath or "
                        + "loop device, writable, nothing mounted or stacked on it, at least 10 GiB",
                "[root] pfs -C disk -E 0 ls /nvme1n1/  -- holds a PFS file system, else refused (never formatted here)",
                "pgrep -f '[p]fsdaemon -p nvme1n1( |$)'  -- pfsd runs for nvme1n1; unless it does:",
                "[root] /usr/local/polarstore/pfsd/bin/start_pfsd.sh -p nvme1n1 -w 1  -- output in "
                        + "/var/log/pfsd-nvme1n1.start.log; then pgrep again"), STORAGE.commands(PfsSharedStorage.Phase.ATTACH));
        String check = String.join("\n", STORAGE.commands(PfsSharedStorage.Phase.CHECK_NEW_CLUSTER));
        assertTrue(check.contains("[root] pfs -C disk ls /nvme1n1/polar/shared_data/  -- absent or empty"), check);
        assertTrue(check.contains("[root] pfs -C disk info nvme1n1  -- at least 1550 free 4 MiB blocks"), check);
        assertTrue(String.join("\n", STORAGE.commands(PfsSharedStorage.Phase.MOUNT))
                .endsWith("[root] pfs -C disk stat /nvme1n1/polar/shared_data/global/pg_control  -- the cluster is there; "
                        + "never created here"));
        assertTrue(String.join("\n", STORAGE.commands(PfsSharedStorage.Phase.FORMAT))
                .endsWith("[root] pfs -C disk mkfs nvme1n1  -- only when all of the above hold: DESTROYS what /dev/nvme1n1 holds"));
    }
}
