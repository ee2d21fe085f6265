package dev.polarscale.storage;

/**
 * What {@link PfsClient#mkfs(DeviceName, MkfsMode)} does when the device already holds a PFS
 * file system. There is no default: the caller of a destructive command names its intent.
 *
 * <pre>{@code
 * pfs.on(host).mkfs(DeviceName.of("nvme1n1"), MkfsMode.REFUSE_IF_FORMATTED);
 * }</pre>
 */
public enum MkfsMode {
    /** Probe first; throw {@link StorageException} if the device already holds a PFS. */
    REFUSE_IF_FORMATTED,
    /** Format even over an existing PFS ({@code mkfs -f}): every node's data on it is lost. */
    FORCE_DESTROYING_EXISTING
}
