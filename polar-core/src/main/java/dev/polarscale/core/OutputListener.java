package dev.polarscale.core;

/**
 * Receives a command's output line by line while it runs, for long steps such as
 * {@code initdb} or a base backup. Called from the executor's pump threads: keep it fast and
 * thread-safe.
 */
@FunctionalInterface
public interface OutputListener {

    /** Which stream a line came from. */
    enum Stream { STDOUT, STDERR }

    void onLine(Stream stream, String line);
}
