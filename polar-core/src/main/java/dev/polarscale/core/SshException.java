package dev.polarscale.core;

/**
 * The SSH layer failed: the host could not be reached, its host key was not trusted, the login
 * was refused, or the connection broke while a command ran. The message always names
 * {@code host:port}; it never contains a password or passphrase.
 *
 * <pre>{@code
 * try (CommandExecutor db1 = Executors.ssh(target)) {
 *     db1.run(Command.of("true"));
 * } catch (SshException e) {
 *     if (e.reason() == SshException.Reason.HOST_KEY_REJECTED) {
 *         // add the host to known_hosts (ssh-keyscan -p 22 db1 >> ~/.ssh/known_hosts), check it, retry
 *     }
 *     throw e;
 * }
 * }</pre>
 */
public class SshException extends PolarException {
    private static final long serialVersionUID = 1L;

    /** What went wrong, for callers that react differently (retry, alert, ask for a key). */
    public enum Reason {
        /** TCP connect or the SSH handshake failed or timed out. */
        CONNECT,
        /** The server's host key is not in known_hosts, or differs from the one recorded there. */
        HOST_KEY_REJECTED,
        /** The server refused every credential offered, or authentication timed out. */
        AUTHENTICATION,
        /** The session or channel closed before the command reported its exit status. */
        CONNECTION_LOST
    }

    private final String host;
    private final int port;
    private final Reason reason;

    public SshException(String host, int port, Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.host = host;
        this.port = port;
        this.reason = reason;
    }

    /** The host name or address as configured in the {@link SshTarget}. */
    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public Reason reason() {
        return reason;
    }
}
