package dev.polarscale.core;

/**
 * Root of every exception PolarScale throws on purpose. Unchecked, like {@code SQLException}'s
 * wrappers in HikariCP: callers catch the subtype they can act on and let the rest travel.
 *
 * <p>Messages name the node, the step and the bad value; they are part of the API.
 */
public class PolarException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PolarException(String message) {
        super(message);
    }

    public PolarException(String message, Throwable cause) {
        super(message, cause);
    }
}
