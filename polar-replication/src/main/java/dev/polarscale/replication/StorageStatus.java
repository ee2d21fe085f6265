package dev.polarscale.replication;

import java.util.Objects;
import java.util.Optional;

/**
 * The shared storage as one host of the cluster sees it, from {@link ClusterScaler#status()}: one
 * per host that runs a node of a PolarDB cluster.
 *
 * <pre>{@code
 * for (StorageStatus s : scaler.status().storage()) {
 *     if (s.pfsdRunning().equals(Optional.of(false))) {
 *         alert(s.host() + ": no pfsd for " + s.device().orElseThrow());
 *     }
 * }
 * }</pre>
 *
 * @param host        the host
 * @param directory   the shared directory as {@code polar-initdb.sh} takes it ({@code /nvme1n1/shared_data/}
 *                    on PFS, a path in local-file-system mode)
 * @param device      the PFS block device ({@code /dev/nvme1n1}); empty in local-file-system mode
 * @param pfsdRunning whether the device's pfsd runs on the host; empty in local-file-system mode or
 *                    when it could not be asked
 * @param error       why the host could not be asked, if it could not
 */
public record StorageStatus(String host, String directory, Optional<String> device, Optional<Boolean> pfsdRunning,
                            Optional<String> error) {
    public StorageStatus {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(pfsdRunning, "pfsdRunning");
        Objects.requireNonNull(error, "error");
    }

    /** In local-file-system mode: nothing to run; on PFS: its pfsd runs. */
    public boolean healthy() {
        return error.isEmpty() && (device.isEmpty() || pfsdRunning.equals(Optional.of(true)));
    }
}
