package dev.polarscale.storage;

import dev.polarscale.core.PolarException;

/**
 * Shared storage is not usable as asked: the device is missing on the host, too small,
 * mounted by the OS, or a data-directory initialisation left the wrong result.
 */
public class StorageException extends PolarException {
    private static final long serialVersionUID = 1L;

    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
