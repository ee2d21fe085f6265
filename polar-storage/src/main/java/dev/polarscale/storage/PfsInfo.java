package dev.polarscale.storage;

import java.util.Objects;

/**
 * The capacity of a PFS file system as {@code pfs -C <cluster> info <disk>} reports it: PFS cuts a
 * device into 10 GiB chunks, each with 2,560 data blocks of 4 MiB, 2,048 inodes and 2,048 directory
 * entries. A file takes an inode and a directory entry, and its data whole 4 MiB blocks.
 *
 * <pre>{@code
 * PfsInfo info = client.info(DeviceName.of("nvme1n1"));
 * info.chunks();       // 3 on a freshly formatted 30 GiB device
 * info.freeBlocks();   // 7420 of 7680 (the journal takes 256, the paxos file 1, ...)
 * info.freeBytes();    // 7420 * 4 MiB
 * }</pre>
 *
 * @param device               the PFS disk
 * @param chunks               10 GiB chunks
 * @param blocks               4 MiB data blocks in all
 * @param freeBlocks           of those, unallocated
 * @param directoryEntries     directory entries in all
 * @param freeDirectoryEntries of those, unused
 * @param inodes               inodes in all
 * @param freeInodes           of those, unused
 */
public record PfsInfo(DeviceName device, int chunks, long blocks, long freeBlocks, long directoryEntries,
                      long freeDirectoryEntries, long inodes, long freeInodes) {
    /** The size of a PFS data block. */
    public static final long BLOCK_BYTES = 4L << 20;

    public PfsInfo {
        Objects.requireNonNull(device, "device");
        if (chunks < 0) {
            throw new IllegalArgumentException("negative chunk count of " + device + ": " + chunks);
        }
        check(device, "blocks", blocks, freeBlocks);
        check(device, "directory entries", directoryEntries, freeDirectoryEntries);
        check(device, "inodes", inodes, freeInodes);
    }

    private static void check(DeviceName device, String what, long all, long free) {
        if (all < 0 || free < 0 || free > all) {
            throw new IllegalArgumentException("impossible " + what + " of " + device + ": " + free + " free of " + all);
        }
    }

    /** The unallocated data blocks in bytes. */
    public long freeBytes() {
        return freeBlocks * BLOCK_BYTES;
    }

    /** How many more files fit: the smaller of the free inodes and free directory entries. */
    public long freeFiles() {
        return Math.min(freeInodes, freeDirectoryEntries);
    }
}
