package dev.polarscale.storage.internal;

import dev.polarscale.core.PolarStorage;

import dev.polarscale.core.CommandExecutor;
import dev.polarscale.storage.BlockDevices;
import dev.polarscale.storage.Pfs;
import dev.polarscale.storage.PfsClient;
import dev.polarscale.storage.PfsPath;
import dev.polarscale.storage.SharedStorage;
import dev.polarscale.storage.StorageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A directory on a PFS block device. {@link #prepare} is steps B1, B2 and A5 made idempotent:
 * check the device ({@link BlockDevices#requireUsable}), require an existing PFS (formatting is
 * left to {@link PfsClient#mkfs} on purpose), start pfsd unless it runs, then create the missing
 * directories one level at a time.
 */
public final class PfsStorage implements SharedStorage {
    private static final Logger LOG = LoggerFactory.getLogger(PfsStorage.class);

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
    public PolarStorage configuration() {
        return configuration;
    }

    @Override
    public void prepare(CommandExecutor executor) {
        long start = System.nanoTime();
        BlockDevices.on(executor).requireUsable(directory.disk(), minimumDeviceBytes);
        PfsClient client = pfs.on(executor);
        // before pfsd starts: a pfsd asked to mount an unformatted device dies
        if (!client.isFormatted(directory.disk())) {
            throw new StorageException(StorageException.Reason.STORAGE_INVALID, executor.host(), executor.host() + " - "
                    + directory.disk().devicePath() + " holds no PFS file system; format it once, on the first node "
                    + "only, with PfsClient.mkfs (scale-out never formats)");
        }
        client.ensureDaemonRunning(directory.disk());
        PfsPath p = PfsPath.root(directory.disk());
        for (String c : directory.components()) {
            p = p.resolve(c);
            if (!client.exists(p)) {
                client.mkdir(p);
            }
        }
        LOG.info("{} - PFS shared directory {} ready in {} ms", executor.host(), directory,
                Duration.ofNanos(System.nanoTime() - start).toMillis());
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

    @Override
    public String toString() {
        return "PfsStorage[" + directory + " on cluster " + pfs.clusterName() + "]";
    }
}
