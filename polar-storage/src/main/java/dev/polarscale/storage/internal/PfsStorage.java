package dev.polarscale.storage.internal;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.PolarStorage;
import dev.polarscale.storage.BlockDevices;
import dev.polarscale.storage.MkfsMode;
import dev.polarscale.storage.Pfs;
import dev.polarscale.storage.PfsClient;
import dev.polarscale.storage.PfsInfo;
import dev.polarscale.storage.PfsPath;
import dev.polarscale.storage.PfsSharedStorage;
import dev.polarscale.storage.StorageException;
import dev.polarscale.core.PolarException.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A directory on a PFS block device. {@link #prepare} is steps B1, B2 and A5 made idempotent:
 * {@link #attach} (device check, an existing PFS required: formatting is a separate, explicit call,
 * pfsd started unless it runs), then {@link #createDirectory}, one level at a time.
 */
public final class PfsStorage implements PfsSharedStorage {
    private static final Logger LOG = LoggerFactory.getLogger(PfsStorage.class);
    /** PFS's own files in the disk root ({@code .pfs-paxos}, {@code .pfs-journal}). */
    private static final String PFS_OWN = ".pfs-";

    private final Pfs pfs;
    private final PfsPath directory;
    private final long minimumDeviceBytes;
    private final PolarStorage configuration;

    public PfsStorage(Pfs pfs, PfsPath directory, long minimumDeviceBytes) {
        this.pfs = Objects.requireNonNull(pfs, "pfs");
        this.directory = Objects.requireNonNull(directory, "directory");
        if (directory.isRoot()) {
            throw new IllegalArgumentException("the shared directory must be below the disk root, e.g. /"
                    + directory.disk() + "/shared_data, not " + directory);
        }
        if (minimumDeviceBytes < 0) {
            throw new IllegalArgumentException("minimumDeviceBytes must not be negative: " + minimumDeviceBytes);
        }
        this.minimumDeviceBytes = minimumDeviceBytes;
        this.configuration = PolarStorage.pfs(pfs.clusterName(), directory.disk().name(),
                String.join("/", directory.components()));
    }

    @Override
    public Pfs pfs() {
        return pfs;
    }

    @Override
    public PfsPath directory() {
        return directory;
    }

    @Override
    public PolarStorage configuration() {
        return configuration;
    }

    @Override
    public void prepare(CommandExecutor executor) {
        long start = System.nanoTime();
        attach(executor);
        createDirectory(executor);
        LOG.info("{} - PFS shared directory {} ready in {} ms", executor.host(), directory, ms(start));
    }

    @Override
    public void attach(CommandExecutor executor) {
        long start = System.nanoTime();
        BlockDevices.on(executor).requireUsable(device(), minimumDeviceBytes);
        PfsClient client = pfs.on(executor);
        // before pfsd starts: a pfsd asked to mount an unformatted device dies
        if (!client.isFormatted(device())) {
            String dev = device().devicePath();
            Blkid.probe(executor, device(), "refusing to use").ifPresent(sig -> {
                throw new StorageException(Reason.DEVICE_NOT_EMPTY, executor.host(), executor.host() + " - " + dev
                        + " holds no PFS file system but " + sig.describe() + ": it is not the shared storage of a "
                        + "PolarDB cluster (check the device name); nothing was changed, and PolarScale never formats "
                        + "a device holding data");
            });
            throw new StorageException(Reason.DEVICE_NOT_FORMATTED, executor.host(), executor.host() + " - " + dev
                    + " holds no PFS file system (and no other file system): format it once, for the cluster's first "
                    + "node only, with PfsClient.mkfs(" + device() + ", MkfsMode.REFUSE_IF_FORMATTED) or as root: "
                    + pfs.pfsCommand() + " -C " + pfs.clusterName() + " mkfs " + device() + " (scale-out never formats)");
        }
        client.ensureDaemonRunning(device());
        LOG.info("{} - {} holds PFS and its pfsd runs ({} ms)", executor.host(), device().devicePath(), ms(start));
    }

    @Override
    public void formatEmptyDevice(CommandExecutor executor) {
        BlockDevices.on(executor).requireUsable(device(), minimumDeviceBytes);
        pfs.on(executor).mkfs(device(), MkfsMode.REFUSE_IF_FORMATTED);
    }

    @Override
    public PfsInfo requireRoomForNewCluster(CommandExecutor executor) {
        PfsClient client = pfs.on(executor);
        PfsPath level = PfsPath.root(device());
        for (int i = 0; i <= directory.components().size(); i++) {
            if (i > 0 && !client.exists(level)) {
                break; // the rest of the path is missing: createDirectory makes it empty
            }
            List<String> names = client.ls(level);
            if (i == directory.components().size()) {
                if (!names.isEmpty()) {
                    throw new StorageException(Reason.DIRECTORY_NOT_EMPTY, executor.host(), executor.host()
                            + " - the PFS directory " + directory + " is not empty (" + preview(names) + "): it holds a "
                            + "cluster already, or what a failed deploy left. A new primary needs an empty directory; "
                            + "if that data is no longer wanted, delete it (no node of it running): " + rm(directory));
                }
                break;
            }
            String next = directory.components().get(i);
            List<String> other = new ArrayList<>();
            for (String n : names) {
                if (!n.equals(next) && !(i == 0 && n.startsWith(PFS_OWN)) && !isEmptyDirectory(client, level.resolve(n))) {
                    other.add(n);
                }
            }
            if (!other.isEmpty()) {
                throw new StorageException(Reason.STORAGE_INVALID, executor.host(), executor.host() + " - the PFS on "
                        + device().devicePath() + " already holds data outside " + directory + ": " + level.asDirectory()
                        + " has " + preview(other) + ". A second primary on one PFS would be a second writer on it: "
                        + "deploy onto a PFS with no other cluster, or delete that data first (" + rm(level.resolve(other.get(0)))
                        + ")");
            }
            level = level.resolve(next);
        }
        return client.requireRoomForPrimary(device());
    }

    private static boolean isEmptyDirectory(PfsClient client, PfsPath p) {
        try {
            return client.ls(p).isEmpty();
        } catch (StorageException notADirectory) {
            return false;
        }
    }

    @Override
    public void createDirectory(CommandExecutor executor) {
        PfsClient client = pfs.on(executor);
        PfsPath p = PfsPath.root(device());
        for (String c : directory.components()) {
            p = p.resolve(c);
            if (!client.exists(p)) {
                client.mkdir(p);
            }
        }
    }

    @Override
    public void mount(CommandExecutor executor) {
        attach(executor);
        PfsPath control = directory.resolve("global").resolve("pg_control");
        if (!pfs.on(executor).exists(control)) {
            throw new StorageException(Reason.STORAGE_INVALID, executor.host(), executor.host() + " - " + control
                    + " does not exist on " + device().devicePath() + " as this host sees it: the shared directory holds "
                    + "no cluster (is it the primary's device and directory?); a node joining a cluster never creates it");
        }
    }

    @Override
    public void deleteContents(CommandExecutor executor) {
        PfsClient client = pfs.on(executor);
        List<String> names = client.ls(directory);
        LOG.warn("{} - deleting the contents of PFS directory {}: {}", executor.host(), directory, preview(names));
        for (String n : names) {
            client.remove(directory.resolve(n));
        }
    }

    @Override
    public boolean daemonRunning(CommandExecutor executor) {
        return pfs.on(executor).isDaemonRunning(device());
    }

    @Override
    public List<String> commands(Phase phase) {
        return PfsPlans.commands(this, minimumDeviceBytes, phase);
    }

    @Override
    public String initdbDirectory() {
        return directory.asDirectory();
    }

    @Override
    public String initdbStorageArgument() {
        return pfs.clusterName();
    }

    @Override
    public boolean exists(CommandExecutor executor) {
        return pfs.on(executor).exists(directory);
    }

    @Override
    public List<String> list(CommandExecutor executor) {
        return pfs.on(executor).ls(directory);
    }

    @Override
    public boolean containsFile(CommandExecutor executor, String relativePath) {
        PfsPath p = directory;
        for (String c : SafePaths.requireRelative(relativePath).split("/")) {
            p = p.resolve(c);
        }
        return pfs.on(executor).exists(p);
    }

    private String rm(PfsPath p) {
        return "as root: " + Command.of(pfs.pfsCommand(), "-C", pfs.clusterName(), "rm", "-r", p.toString());
    }

    private static String preview(List<String> names) {
        return names.size() <= 8 ? String.join(", ", names)
                : String.join(", ", names.subList(0, 8)) + ", ... " + names.size() + " in all";
    }

    private static long ms(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos).toMillis();
    }

    @Override
    public String toString() {
        return "PfsStorage[" + directory + " on cluster " + pfs.clusterName() + "]";
    }
}
