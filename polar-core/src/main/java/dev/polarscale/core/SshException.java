package dev.polarscale.core;

/**
 * The SSH layer failed: the host could not be reached ({@link Reason#HOST_UNREACHABLE}), its host
 * key was not trusted ({@link Reason#HOST_KEY_REJECTED}), the login was refused
 * ({@link Reason#AUTH_FAILED}), or the connection broke while a command ran
 * ({@link Reason#CONNECTION_LOST}). The message always names {@code host:port}; it never contains
 * a password or passphrase.
 *
 * <pre>{@code
 * try (CommandExecutor db1 = Executors.ssh(target)) {
 *     db1.run(Command.of("true"));
 * } catch (SshException e) {
 *     if (e.reason() == PolarException.Reason.HOST_KEY_REJECTED) {
 *         // add the host to known_hosts (ssh-keyscan -p 22 db1 >> ~/.ssh/known_hosts), check it, retry
 *     }
 *     throw e;
 * }
 * }</pre>
 */
public class SshException extends PolarException {
    private static final long serialVersionUID = 2L;

    private final int port;

    public SshException(String host, int port, Reason reason, String message, Throwable cause) {
        super(reason, null, host, null, message, cause);
        this.port = port;
    }

    public int port() {
        return port;
    }
}
