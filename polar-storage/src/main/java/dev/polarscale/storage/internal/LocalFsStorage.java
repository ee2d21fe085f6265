package dev.polarscale.storage.internal;

import dev.polarscale.core.PolarStorage;

import dev.polarscale.core.CommandExecutor;
import dev.polarscale.storage.SharedStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Local-file-system mode: a directory instead of a PFS device ({@code polar_vfs.localfs_mode=on},
 * {@code polar_datadir=file-dio:///abs/path/}). {@code polar_disk_name} is set to the first path
 * component, as in the configuration observed to work (it matters only in PFS mode).
 */
public final class LocalFsStorage implements SharedStorage {
    private static final Logger LOG = LoggerFactory.getLogger(LocalFsStorage.class);

    private final Path directory;
    private final String osUser;
    private final PolarStorage configuration;

    public LocalFsStorage(Path directory, String osUser) {
        this.directory = SafePaths.requireSafeAbsolute(directory, "shared directory");
        this.osUser = OsUsers.requireDatabaseUser(osUser);
        this.configuration = PolarStorage.localFs(this.directory);
    }

    public Path directory() {
        return directory;
    }

    @Override
    public PolarStorage configuration() {
        return configuration;
    }

    @Override
    public void prepare(CommandExecutor executor) {
        long start = System.nanoTime();
        HostFiles.ensurePrivateDirectory(executor, directory, osUser);
        LOG.info("{} - shared directory {} ready (owner {}, mode 0700) in {} ms", executor.host(), directory,
                osUser, Duration.ofNanos(System.nanoTime() - start).toMillis());
    }

    @Override
    public String initdbDirectory() {
        return SafePaths.withTrailingSlash(directory);
    }

    @Override
    public String initdbStorageArgument() {
        return "localfs";
    }

    @Override
    public boolean exists(CommandExecutor executor) {
        return new HostFiles(executor, osUser).isDirectory(directory);
    }

    @Override
    public List<String> list(CommandExecutor executor) {
        return new HostFiles(executor, osUser).list(directory);
    }

    @Override
    public boolean containsFile(CommandExecutor executor, String relativePath) {
        return new HostFiles(executor, osUser).isFile(directory.resolve(SafePaths.requireRelative(relativePath)));
    }

    @Override
    public String toString() {
        return "LocalFsStorage[" + directory + ", owner " + osUser + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LocalFsStorage l && l.directory.equals(directory) && l.osUser.equals(osUser);
    }

    @Override
    public int hashCode() {
        return Objects.hash(directory, osUser);
    }
}
