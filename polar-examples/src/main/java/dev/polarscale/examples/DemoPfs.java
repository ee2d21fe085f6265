package dev.polarscale.examples;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.storage.DeviceName;
import dev.polarscale.storage.Pfs;
import dev.polarscale.storage.PfsClient;
import dev.polarscale.storage.PfsPath;
import dev.polarscale.storage.PfsSharedStorage;
import dev.polarscale.storage.PolarInitdb;
import dev.polarscale.storage.SharedStorage;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The demo's PFS mode ({@code POLARSCALE_PFS_DEVICE}): the storage on that device in
 * {@code /<device>/polarscale_demo}, and what the demo sets up on this machine for it and takes
 * away again at the end: the {@code /usr/local/bin/pfs} link {@code polar-initdb.sh} needs (only
 * if it was missing), the pfsd with its shared memory and files (only if none ran for the device),
 * the demo's PFS directory. The
 * device is formatted only when {@code POLARSCALE_PFS_FORMAT=empty-device} asks for it, and then
 * only if it is provably empty.
 */
final class DemoPfs implements AutoCloseable {
    static final String DIRECTORY = "polarscale_demo";

    private final PfsSharedStorage storage;
    private final boolean madeLink;
    private final boolean pfsdWasRunning;
    private final List<String> absentBefore;
    private final AtomicBoolean closed = new AtomicBoolean();

    private DemoPfs(PfsSharedStorage storage, boolean madeLink, boolean pfsdWasRunning) {
        this.storage = storage;
        this.madeLink = madeLink;
        this.pfsdWasRunning = pfsdWasRunning;
        this.absentBefore = hostFiles(storage.device()).stream().filter(f -> !Files.exists(Path.of(f))).toList();
    }

    /**
     * What the PFS tools leave on the host for a device (as the bundle's {@code clean_pfsd.sh} lists
     * it: pid file, client directory, shared memory, logs), then the host-wide directories
     * {@code start_pfsd.sh} creates.
     */
    private static List<String> hostFiles(DeviceName dev) {
        String n = dev.name();
        return List.of("/var/run/pfsd/pfsd_" + n + ".pid", "/var/run/pfsd/" + n, "/var/log/pfsd-" + n,
                "/var/log/pfsd-" + n + ".start.log", "/var/log/pfs-" + n + ".log", "/var/run/pfs/" + n + "-paxos-hostid",
                "/var/run/pfsd", "/dev/shm/pfsd", "/var/run/pfs");
    }

    /**
     * The demo's storage on {@code device} (cluster {@code cluster}), the PFS tools from
     * {@code <polarHome>/pfsd/bin} where they are, else the packages' paths; one pfsd worker.
     */
    static DemoPfs prepare(Path polarHome, String device, String cluster, boolean formatEmptyDevice) {
        try (CommandExecutor local = Executors.local()) {
            if (!local.run(Command.of("id", "-u")).stdout().strip().equals("0")) {
                throw new IllegalStateException("PFS mode needs root (the PFS tools open the block device): run the demo "
                        + "as root, or unset POLARSCALE_PFS_DEVICE for local-file-system mode");
            }
            Path bin = polarHome.resolve("pfsd").resolve("bin");
            Pfs.Builder b = Pfs.builder().clusterName(cluster).workers(1);
            if (Files.isExecutable(bin.resolve("pfs"))) {
                b.pfsCommand(bin.resolve("pfs").toString()).pfsdBinDir(bin);
            }
            Pfs pfs = b.build();
            DeviceName dev = DeviceName.of(device);
            PfsSharedStorage storage = SharedStorage.pfs(pfs, PfsPath.root(dev).resolve(DIRECTORY), 0);
            Path link = PolarInitdb.SCRIPT_PFS;
            boolean makeLink = !Files.exists(link, LinkOption.NOFOLLOW_LINKS);
            if (makeLink) {
                String target = pfs.pfsCommand().startsWith("/") ? pfs.pfsCommand()
                        : local.run(Command.of("sh", "-c", "command -v \"$1\"", "sh", pfs.pfsCommand())).stdout().strip();
                local.run(Command.of("ln", "-s", target, link.toString()));
                System.out.println("      linked " + link + " -> " + target + " (polar-initdb.sh runs pfs from there; "
                        + "removed at the end)");
            }
            DemoPfs d = new DemoPfs(storage, makeLink, pfs.on(local).isDaemonRunning(dev));
            if (formatEmptyDevice && pfs.on(local).isFormatted(dev)) {
                System.out.println("      " + dev.devicePath() + " already holds PFS: using it as it is (not formatting)");
            } else if (formatEmptyDevice) {
                System.out.println("      formatting " + dev.devicePath() + " as PFS, only if it is provably empty ...");
                try {
                    storage.formatEmptyDevice(local);
                } catch (RuntimeException e) {
                    d.close();
                    throw e;
                }
            }
            return d;
        }
    }

    PfsSharedStorage storage() {
        return storage;
    }

    /**
     * Removes the demo's directory if it is empty (the cluster's close empties what its deploy put
     * there; a directory that held data before is left alone), stops the pfsd it started, removes
     * the link it made.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try (CommandExecutor local = Executors.local()) {
            PfsClient client = storage.pfs().on(local);
            DeviceName dev = storage.device();
            if (client.isDaemonRunning(dev) && client.exists(storage.directory()) && client.ls(storage.directory()).isEmpty()) {
                client.remove(storage.directory());
            }
            if (!pfsdWasRunning && client.isDaemonRunning(dev)) {
                client.stopDaemon(dev);
            }
            if (!pfsdWasRunning && !client.isDaemonRunning(dev)) {
                local.execute(Command.of("sh", "-c", "rm -f -- /dev/shm/pfsd/shm_pfsd-\"$1\"_*", "sh", dev.name()));
                boolean otherDaemons = local.execute(Command.of("pgrep", "-f", "[p]fsdaemon -p ")).succeeded();
                for (String f : absentBefore) {
                    if (!otherDaemons || !List.of("/var/run/pfsd", "/dev/shm/pfsd", "/var/run/pfs").contains(f)) {
                        local.execute(Command.of("rm", "-rf", "--", f));
                    }
                }
            }
        } catch (RuntimeException e) {
            System.out.println("      PFS cleanup incomplete: " + e.getMessage());
        } finally {
            if (madeLink) {
                try (CommandExecutor local = Executors.local()) {
                    local.execute(Command.of("rm", "-f", "--", PolarInitdb.SCRIPT_PFS.toString()));
                }
            }
        }
    }
}
