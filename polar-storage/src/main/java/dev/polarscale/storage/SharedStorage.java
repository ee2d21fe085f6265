package dev.polarscale.storage;

import dev.polarscale.core.NodeConfig;
import dev.polarscale.core.PolarStorage;

import dev.polarscale.core.CommandExecutor;
import dev.polarscale.storage.internal.LocalFsStorage;
import dev.polarscale.storage.internal.PfsStorage;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The storage every compute node of one cluster shares: a PFS directory on a block device, or,
 * in local-file-system mode, a plain directory (all nodes on one host, or a directory every
 * host sees the same way). It knows the {@code postgresql.conf} settings it needs, how to make
 * itself ready on a host, and how {@code polar-initdb.sh} and its checks reach it.
 *
 * <pre>{@code
 * SharedStorage storage = SharedStorage.localFileSystem(Path.of("/srv/polar/shared_data"), "postgres");
 * try (CommandExecutor host = Executors.local()) {
 *     storage.prepare(host);                   // install -d -m 0700 -o postgres ... (idempotent)
 * }
 * Map<String, String> gucs = storage.settings();
 * // {polar_enable_shared_storage_mode=on, polar_vfs.localfs_mode=on,
 * //  polar_datadir=file-dio:///srv/polar/shared_data/, polar_disk_name=srv}
 *
 * Pfs pfs = Pfs.builder().clusterName("disk").build();
 * PfsSharedStorage onPfs = SharedStorage.pfs(pfs, PfsPath.of("/nvme1n1/shared_data"), 100L << 30);
 * }</pre>
 *
 * <p>Implementations are immutable and thread-safe; the executor of each call names the host.
 */
public interface SharedStorage {

    /** A directory in local-file-system mode, owned by {@code osUser} (the database OS user). */
    static SharedStorage localFileSystem(Path directory, String osUser) {
        return new LocalFsStorage(directory, osUser);
    }

    /**
     * A directory on a PFS block device. {@link #prepare} requires the device to pass
     * {@link BlockDevices#requireUsable} (a whole disk, multipath or loop device, writable, nothing
     * mounted or stacked on it, at least {@code minimumDeviceBytes} and 10 GiB) and to hold a PFS
     * already ({@link PfsClient#isFormatted}), then starts pfsd unless it runs and creates the
     * missing directories. It never formats; {@link PfsSharedStorage} has the finer calls a
     * deploy and a replica use, the one that formats an empty device on purpose among them.
     */
    static PfsSharedStorage pfs(Pfs pfs, PfsPath directory, long minimumDeviceBytes) {
        return new PfsStorage(pfs, directory, minimumDeviceBytes);
    }

    /**
     * The {@code postgresql.conf} settings this storage needs, GUC name to raw (unquoted) value,
     * in a fixed order; unmodifiable.
     */
    default Map<String, String> settings() {
        PolarStorage c = configuration();
        Map<String, String> s = new java.util.LinkedHashMap<>();
        s.put("polar_enable_shared_storage_mode", "on");
        s.put("polar_vfs.localfs_mode", c.localFsMode() ? "on" : "off");
        s.put("polar_disk_name", c.diskName());
        s.put("polar_datadir", c.polarDatadir());
        c.storageClusterName().ifPresent(n -> s.put("polar_storage_cluster_name", n));
        return java.util.Collections.unmodifiableMap(s);
    }

    /**
     * The storage as {@link NodeConfig} takes it ({@code NodeConfig.Builder.storage}); the
     * {@link #settings()} map is derived from it, so both always agree.
     */
    PolarStorage configuration();

    /**
     * Makes the storage usable on the host, idempotently. Never formats a device.
     *
     * @throws StorageException the host cannot use this storage, with the reason
     */
    void prepare(CommandExecutor executor);

    /** The shared directory as {@code polar-initdb.sh} takes it: absolute, ending in {@code /}. */
    String initdbDirectory();

    /** The last argument of {@code polar-initdb.sh}: {@code localfs} or the PFS cluster name. */
    String initdbStorageArgument();

    /** Whether the shared directory exists on the host. */
    boolean exists(CommandExecutor executor);

    /**
     * The entry names directly in the shared directory (hidden ones included).
     *
     * @throws StorageException it cannot be listed (e.g. it does not exist)
     */
    List<String> list(CommandExecutor executor);

    /** Whether a file exists at {@code relativePath} ({@code global/pg_control}) below the shared directory. */
    boolean containsFile(CommandExecutor executor, String relativePath);
}
