package dev.polarscale.examples.cli;

/**
 * A cluster file that cannot be used: unreadable, not YAML, an unknown or missing key, a bad value,
 * an inline secret. The message names the file, the line (where known), the key and the value, and
 * nothing has been done yet: it is a usage error ({@link ExitCodes#USAGE}).
 */
public final class ClusterFileException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final int line;
    private final String key;

    /**
     * @param file    the file as the user named it
     * @param line    1-based line, or 0 when unknown
     * @param key     the key's path ({@code primary.port}), or empty for the whole file
     * @param problem what is wrong, naming the bad value
     */
    public ClusterFileException(String file, int line, String key, String problem) {
        super(file + (line > 0 ? ":" + line : "") + ": " + (key.isEmpty() ? "" : key + ": ") + problem);
        this.file = file;
        this.line = line;
        this.key = key;
    }

    public String file() {
        return file;
    }

    /** The 1-based line, 0 when unknown. */
    public int line() {
        return line;
    }

    /** The key's path, e.g. {@code hosts."10.0.0.2".ssh.keyFile}; empty for the whole file. */
    public String key() {
        return key;
    }
}
