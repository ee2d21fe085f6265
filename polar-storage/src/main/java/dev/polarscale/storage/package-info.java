/**
 * Shared storage of a PolarDB cluster, the public API of {@code polar-storage}: block devices and their
 * checks ({@link dev.polarscale.storage.BlockDevices}), PFS and its tools ({@link dev.polarscale.storage.Pfs},
 * {@link dev.polarscale.storage.PfsClient}, {@link dev.polarscale.storage.PfsPath}), the storage a cluster
 * uses ({@link dev.polarscale.storage.SharedStorage}: PFS or local-file-system mode), data-directory
 * initialisation on it ({@link dev.polarscale.storage.PolarInitdb}) and its errors
 * ({@link dev.polarscale.storage.StorageException}).
 *
 * <pre>{@code
 * SharedStorage shared = SharedStorage.localFileSystem(Path.of("/home/polar/shared_data"), "postgres");
 * }</pre>
 *
 * <p>Implementations live in {@code dev.polarscale.storage.internal}, which carries no compatibility promise.
 */
package dev.polarscale.storage;
