package dev.polarscale.replication.internal;

import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.PolarException;
import dev.polarscale.replication.DeployOptions;
import dev.polarscale.storage.PfsSharedStorage;
import dev.polarscale.storage.PfsSharedStorage.Phase;
import dev.polarscale.storage.StorageException;

import java.util.ArrayList;
import java.util.List;

/**
 * The storage steps of an operation on PFS, each showing the commands it runs: for a deploy
 * (format storage, only when asked; prepare storage; check storage; shared directory), and the
 * "mount storage" of a replica. None has an undo: formatting cannot be undone, a pfsd serves every
 * PolarDB node of its host (whatever cluster) and is left running, and an empty directory is what
 * a new deploy wants anyway.
 */
final class PfsSteps {
    private PfsSteps() {
    }

    static List<Step> deploy(PfsSharedStorage s, String host, CommandExecutor executor, DeployOptions options) {
        List<Step> steps = new ArrayList<>();
        if (options.formatEmptyDevice()) {
            steps.add(Step.of("format storage", host, s.commands(Phase.FORMAT), () -> s.formatEmptyDevice(executor)));
        }
        steps.add(Step.of("prepare storage", host, s.commands(Phase.ATTACH), () -> {
            try {
                s.attach(executor);
            } catch (StorageException e) {
                if (e.reason() != PolarException.Reason.DEVICE_NOT_FORMATTED) {
                    throw e;
                }
                throw new StorageException(e.reason(), host, e.getMessage() + "; or deploy with "
                        + "DeployOptions.defaults().withFormatEmptyDevice(true), which formats only a device proven "
                        + "empty", e);
            }
        }));
        steps.add(Step.of("check storage", host, s.commands(Phase.CHECK_NEW_CLUSTER),
                () -> s.requireRoomForNewCluster(executor)));
        steps.add(Step.of("shared directory", host, s.commands(Phase.CREATE_DIRECTORY), () -> s.createDirectory(executor)));
        return steps;
    }

    /** A node joining the cluster: the device checked and attached, the cluster's directory there. */
    static Step mount(PfsSharedStorage s, String host, CommandExecutor executor) {
        return Step.of("mount storage", host, s.commands(Phase.MOUNT), () -> s.mount(executor));
    }
}
