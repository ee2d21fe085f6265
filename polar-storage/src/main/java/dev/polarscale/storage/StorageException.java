package dev.polarscale.storage;

import dev.polarscale.core.PolarException;

/**
 * Shared storage is not usable as asked: the device is missing on the host, too small, mounted
 * by the OS ({@link Reason#DEVICE_UNSUITABLE}); it holds a file system and formatting was not
 * forced ({@link Reason#DEVICE_NOT_EMPTY}); its state could not be read
 * ({@link Reason#DEVICE_STATE_UNKNOWN}); or a data-directory initialisation left the wrong result
 * ({@link Reason#STORAGE_INVALID}).
 */
public class StorageException extends PolarException {
    private static final long serialVersionUID = 2L;

    /**
     * @param reason  what went wrong
     * @param host    the host (executor name), or {@code null}
     * @param message the message, naming host, device or directory
     */
    public StorageException(Reason reason, String host, String message) {
        super(reason, null, host, null, message, null);
    }

    public StorageException(Reason reason, String host, String message, Throwable cause) {
        super(reason, null, host, null, message, cause);
    }
}
