package dev.polarscale.core;

/** What {@code pg_ctl status} says of a data directory. */
public enum NodeState {
    /** A server runs on the data directory (exit 0). */
    RUNNING,
    /** No server runs on it (exit 3). */
    STOPPED,
    /** The directory is missing or not a data directory (exit 4). */
    NO_DATA_DIRECTORY
}
