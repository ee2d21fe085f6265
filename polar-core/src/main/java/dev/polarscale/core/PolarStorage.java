package dev.polarscale.core;

import dev.polarscale.core.internal.conf.GucSyntax;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where a PolarDB cluster keeps its shared data, and so the storage settings every compute node
 * of it needs: either PFS on a shared block device, or a directory on a local file system (one
 * host, or a file system mounted on every host).
 *
 * <pre>{@code
 * PolarStorage pfs = PolarStorage.pfs("disk", "nvme1n1", "shared_data");
 * pfs.polarDatadir();      // /nvme1n1/shared_data/
 * PolarStorage local = PolarStorage.localFs(Path.of("/home/polar/shared_data"));
 * local.polarDatadir();    // file-dio:///home/polar/shared_data/
 * }</pre>
 */
public sealed interface PolarStorage permits PolarStorage.Pfs, PolarStorage.LocalFs {

    /** {@code polar_disk_name}. */
    String diskName();

    /** {@code polar_datadir}. */
    String polarDatadir();

    /** {@code polar_vfs.localfs_mode}. */
    boolean localFsMode();

    /** {@code polar_storage_cluster_name}, set only for PFS. */
    Optional<String> storageClusterName();

    /** PFS storage: {@code polar_vfs.localfs_mode=off}, data in {@code /<diskName>/<directory>/}. */
    static Pfs pfs(String clusterName, String diskName, String directory) {
        return new Pfs(clusterName, diskName, directory);
    }

    /**
     * Local-file-system storage in {@code directory} (absolute), read with direct I/O. The disk
     * name, which the server ignores in this mode, is the first element of the path, as in the
     * configuration known to work ({@code /home/polar/shared_data} → {@code home}).
     */
    static LocalFs localFs(Path directory) {
        Objects.requireNonNull(directory, "directory");
        if (!directory.isAbsolute() || directory.getNameCount() == 0) {
            throw new IllegalArgumentException("local shared storage directory must be absolute and not '/': "
                    + directory);
        }
        return new LocalFs(directory, directory.getName(0).toString());
    }

    /**
     * PFS storage.
     *
     * @param clusterName PFS cluster name ({@code pfs -C <name>}), e.g. {@code disk}
     * @param diskName    block device name without {@code /dev/}, e.g. {@code nvme1n1}
     * @param directory   directory on the device, e.g. {@code shared_data} or {@code polar/data}
     */
    record Pfs(String clusterName, String diskName, String directory) implements PolarStorage {
        private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
        private static final Pattern DIR = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*");

        public Pfs {
            check("PFS cluster name", clusterName, NAME);
            check("PFS disk name", diskName, NAME);
            check("PFS directory", directory, DIR);
            if (directory.matches("(.*/)?\\.\\.?(/.*)?")) {
                throw new IllegalArgumentException("PFS directory must not contain '.' or '..': " + directory);
            }
        }

        private static void check(String what, String value, Pattern valid) {
            Objects.requireNonNull(value, what);
            if (!valid.matcher(value).matches()) {
                throw new IllegalArgumentException("invalid " + what + " '" + GucSyntax.printable(value)
                        + "': must match " + valid.pattern());
            }
        }

        @Override
        public String polarDatadir() {
            return "/" + diskName + "/" + directory + "/";
        }

        @Override
        public boolean localFsMode() {
            return false;
        }

        @Override
        public Optional<String> storageClusterName() {
            return Optional.of(clusterName);
        }
    }

    /**
     * Local-file-system storage.
     *
     * @param directory absolute, normalized path of the shared data directory
     * @param diskName  {@code polar_disk_name} (ignored by the server in this mode)
     */
    record LocalFs(Path directory, String diskName) implements PolarStorage {
        public LocalFs {
            Objects.requireNonNull(directory, "directory");
            Objects.requireNonNull(diskName, "diskName");
            if (!directory.isAbsolute() || directory.getNameCount() == 0 || !directory.normalize().equals(directory)) {
                throw new IllegalArgumentException(
                        "local shared storage directory must be absolute, normalized and not '/': " + directory);
            }
            GucSyntax.checkValue("local shared storage directory", directory.toString());
            GucSyntax.checkValue("polar_disk_name", diskName);
            if (diskName.isEmpty()) {
                throw new IllegalArgumentException("polar_disk_name must not be empty");
            }
        }

        @Override
        public String polarDatadir() {
            return "file-dio://" + directory + "/";
        }

        @Override
        public boolean localFsMode() {
            return true;
        }

        @Override
        public Optional<String> storageClusterName() {
            return Optional.empty();
        }
    }
}
