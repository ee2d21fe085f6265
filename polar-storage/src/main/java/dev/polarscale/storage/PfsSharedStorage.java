package dev.polarscale.storage;

import dev.polarscale.core.CommandExecutor;

import java.util.List;

/**
 * Shared storage in a directory on a PFS block device ({@link SharedStorage#pfs}): what deploying a
 * primary and adding nodes need beyond {@link SharedStorage}, one call per concern, each with the
 * commands it runs rendered for a plan ({@link #commands}).
 *
 * <pre>{@code
 * PfsSharedStorage storage = SharedStorage.pfs(Pfs.builder().clusterName("disk").build(),
 *         PfsPath.of("/nvme1n1/shared_data"), 0);
 * try (CommandExecutor host = Executors.local()) {
 *     storage.formatEmptyDevice(host);          // only on purpose, only a provably empty device
 *     storage.attach(host);                     // device checked, holds PFS, pfsd runs
 *     storage.requireRoomForNewCluster(host);   // no other cluster, directory empty, pfs info
 *     storage.createDirectory(host);            // pfs mkdir of each missing level
 *     // ... polar-initdb.sh primary; on another host, for a replica:
 *     storage.mount(replicaHost);               // attach, and the primary's data must be there
 * }
 * }</pre>
 *
 * <p>Nothing here formats except {@link #formatEmptyDevice}; nothing deletes data except
 * {@link #deleteContents}. pfsd is never stopped: one pfsd serves every PolarDB node of its host,
 * whichever cluster it belongs to.
 */
public interface PfsSharedStorage extends SharedStorage {

    /** What each call runs, for {@link #commands}. */
    enum Phase {
        /** {@link #formatEmptyDevice}. */
        FORMAT,
        /** {@link #attach}. */
        ATTACH,
        /** {@link #requireRoomForNewCluster}. */
        CHECK_NEW_CLUSTER,
        /** {@link #createDirectory}. */
        CREATE_DIRECTORY,
        /** {@link #mount}. */
        MOUNT
    }

    /** The PFS tools and cluster name. */
    Pfs pfs();

    /** The shared directory on PFS, e.g. {@code /nvme1n1/shared_data}. */
    PfsPath directory();

    /** The block device. */
    default DeviceName device() {
        return directory().disk();
    }

    /**
     * The device made usable on the host, never formatted, nothing created on it: it passes
     * {@link BlockDevices#requireUsable}, holds a PFS, and its pfsd runs (started unless it did).
     *
     * @throws StorageException {@link StorageException.Reason#DEVICE_NOT_FORMATTED} (it holds no file
     *                          system: nothing was started), {@link StorageException.Reason#DEVICE_NOT_EMPTY}
     *                          (it holds another file system), or the device check's reason
     */
    void attach(CommandExecutor executor);

    /**
     * Formats the device for a new cluster, once and on purpose: after the device check,
     * {@link PfsClient#mkfs} with {@link MkfsMode#REFUSE_IF_FORMATTED}, which formats only a device
     * proven empty and refuses one holding PFS or anything else, or one a pfsd runs for.
     */
    void formatEmptyDevice(CommandExecutor executor);

    /**
     * Checks that a new primary may put its data here, writing nothing (after {@link #attach}): the
     * PFS holds no other data than its own files, the path to the directory and empty directories
     * (a second primary on one PFS would be a second writer), the directory is absent or empty, and
     * {@link PfsClient#requireRoomForPrimary} holds.
     *
     * @return the capacity found
     * @throws StorageException {@link StorageException.Reason#DIRECTORY_NOT_EMPTY} (the directory holds
     *                          data), {@link StorageException.Reason#STORAGE_INVALID} (other data on the
     *                          PFS), {@link StorageException.Reason#DEVICE_UNSUITABLE} (too little room)
     */
    PfsInfo requireRoomForNewCluster(CommandExecutor executor);

    /** Creates each missing level of the directory ({@code pfs mkdir}), after {@link #attach}. */
    void createDirectory(CommandExecutor executor);

    /**
     * For a node joining the cluster (a replica, another host): {@link #attach}, then the directory
     * must hold the cluster ({@code global/pg_control}); it is never created here.
     */
    void mount(CommandExecutor executor);

    /**
     * DELETES every entry of the directory ({@code pfs rm -r}, one per entry); the directory stays.
     * For the undo of a primary's {@code polar-initdb.sh} that ran into the directory found empty,
     * and a throw-away cluster's teardown; no node of the cluster may run.
     */
    void deleteContents(CommandExecutor executor);

    /** Whether a pfsd for the device runs on the host. */
    boolean daemonRunning(CommandExecutor executor);

    /** The commands a call runs, one line each with the condition it runs under, for plans; runs nothing. */
    List<String> commands(Phase phase);
}
