package dev.polarscale.core.internal.ssh;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.CommandTimeoutException;
import dev.polarscale.core.OutputListener;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.ShellQuoting;
import dev.polarscale.core.SshException;
import dev.polarscale.core.SshTarget;
import dev.polarscale.core.internal.exec.IdentitySwitch;
import dev.polarscale.core.internal.exec.LineTee;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.config.hosts.HostConfigEntryResolver;
import org.apache.sshd.client.keyverifier.KnownHostsServerKeyVerifier;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.keyprovider.KeyIdentityProvider;
import org.apache.sshd.common.util.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs commands over one SSH session (Apache MINA SSHD), opened on first use, reopened when the
 * server or the network closed it, and shared by all threads: each command gets its own exec
 * channel, which SSH multiplexes over the one connection.
 *
 * <p>The exec request carries a string, so the argv is quoted argument by argument with
 * {@link ShellQuoting} and prefixed with {@code exec} (and {@code cd 'dir' &&} for a working
 * directory). {@code exec} makes the program replace the login shell, so the "signal" request
 * sent on timeout reaches the program itself. Before that, the shell reports its PID on stderr
 * ({@link RemotePidFilter} takes the line out again), because OpenSSH ignores the signal request
 * for root logins: on timeout the executor then kills the process group that PID leads through a
 * second channel. Nothing is read from {@code ~/.ssh/config} and no default identity is loaded:
 * only what the {@link SshTarget} names is used.
 */
public final class SshCommandExecutor implements CommandExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(SshCommandExecutor.class);
    private static final Duration ABORT_WAIT = Duration.ofSeconds(3);

    /** Linux signal numbers, for the shell-style exit code 128+n of a command killed by a signal. */
    private static final Map<String, Integer> SIGNALS = Map.ofEntries(
            Map.entry("HUP", 1), Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("ILL", 4),
            Map.entry("TRAP", 5), Map.entry("ABRT", 6), Map.entry("BUS", 7), Map.entry("FPE", 8),
            Map.entry("KILL", 9), Map.entry("USR1", 10), Map.entry("SEGV", 11), Map.entry("USR2", 12),
            Map.entry("PIPE", 13), Map.entry("ALRM", 14), Map.entry("TERM", 15));

    private final SshTarget target;
    private final String password;
    private final String keyPassphrase;
    private final String name;

    /** Set by the key verifier during a connect: why the host key was refused. */
    private final AtomicReference<String> hostKeyRejection = new AtomicReference<>();
    /** Set by the key verifier during a connect: the handshake got as far as checking the host key. */
    private final AtomicReference<PublicKey> hostKeySeen = new AtomicReference<>();

    private final Object lock = new Object();
    private SshClient client;
    private ClientSession session;
    private boolean closed;

    /**
     * @param password      the password, or {@code null}
     * @param keyPassphrase the private key file's passphrase, or {@code null}
     */
    public SshCommandExecutor(SshTarget target, String password, String keyPassphrase) {
        this.target = Objects.requireNonNull(target, "target");
        this.password = password;
        this.keyPassphrase = keyPassphrase;
        this.name = target.hostAndPort();
    }

    @Override
    public String host() {
        return name;
    }

    @Override
    public CommandResult execute(Command command) {
        String line = remoteCommandLine(IdentitySwitch.argv(command, target.user(), true),
                command.workingDirectory().orElse(null));
        OutputListener listener = command.outputListener().orElse(null);
        LineTee out = new LineTee(listener, OutputListener.Stream.STDOUT);
        LineTee err = new LineTee(listener, OutputListener.Stream.STDERR);
        RemotePidFilter errWithPid = new RemotePidFilter(err);
        byte[] stdin = command.stdin().orElse(new byte[0]);

        LOG.debug("{} - run: {}", name, command);
        ChannelExec channel = openChannel(errWithPid.reportCommand() + line, stdin, out, errWithPid, command);
        long start = System.nanoTime();
        CompletableFuture<Void> done = new CompletableFuture<>();
        channel.addCloseFutureListener(f -> done.complete(null));
        try {
            done.get(command.timeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            abort(channel, errWithPid);
            throw new CommandTimeoutException(name, command.redactedArgv(), command.timeout(),
                    name + " - command timed out after " + command.timeout().toMillis()
                            + " ms; sent SIGKILL and closed the channel: " + command);
        } catch (InterruptedException e) {
            abort(channel, errWithPid);
            Thread.currentThread().interrupt();
            throw new PolarException(PolarException.Reason.INTERRUPTED, null, name, null,
                    name + " - interrupted while running " + command, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("close future failed", e);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        out.close();
        closeQuietly(errWithPid);

        Integer status = channel.getExitStatus();
        String signal = channel.getExitSignal();
        int exitCode;
        if (status != null) {
            exitCode = status;
        } else if (signal != null) {
            exitCode = exitCodeForSignal(signal);
            LOG.debug("{} - killed by SIG{} (exit code {}): {}", name, signal, exitCode, command);
        } else {
            throw new SshException(target.host(), target.port(), PolarException.Reason.CONNECTION_LOST,
                    name + " - connection lost while running " + command
                            + ": the channel closed without an exit status; the command may or may not have"
                            + " completed (session " + (sessionAlive(channel.getClientSession()) ? "open" : "closed")
                            + ", " + took.toMillis() + " ms)", null);
        }
        CommandResult result = new CommandResult(exitCode, out.text(), err.text(), took);
        LOG.debug("{} - exit {} in {} ms: {}", name, exitCode, took.toMillis(), command);
        return result;
    }

    /**
     * Opens an exec channel, reconnecting once if the cached session turns out to be dead. A
     * channel that failed to open never ran its command, so the retry cannot run it twice.
     */
    private ChannelExec openChannel(String line, byte[] stdin, OutputStream out, OutputStream err, Command command) {
        for (int attempt = 1; ; attempt++) {
            ClientSession s = session();
            ChannelExec channel = null;
            try {
                channel = s.createExecChannel(line);
                channel.setIn(new ByteArrayInputStream(stdin));
                channel.setOut(out);
                channel.setErr(err);
                channel.open().verify(target.connectTimeout());
                return channel;
            } catch (IOException | RuntimeException e) {
                if (channel != null) {
                    channel.close(true);
                }
                if (attempt == 1 && !sessionAlive(s)) {
                    LOG.info("{} - session was closed ({}); reconnecting", name, e.getMessage());
                    continue;
                }
                throw new SshException(target.host(), target.port(), PolarException.Reason.CONNECTION_LOST,
                        name + " - cannot open an exec channel for " + command + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Best effort: ask the server to SIGKILL the command (RFC 4254 6.9), SIGKILL the command's
     * process group through a second channel (OpenSSH ignores the signal request for root logins:
     * it needs privilege separation, which a root session does not use), then close the channel.
     */
    private void abort(ChannelExec channel, RemotePidFilter pid) {
        try {
            Buffer buf = channel.getSession().createBuffer(SshConstants.SSH_MSG_CHANNEL_REQUEST, 32);
            buf.putUInt(channel.getRecipient());
            buf.putString("signal");
            buf.putBoolean(false);
            buf.putString("KILL");
            channel.writePacket(buf);
        } catch (IOException | RuntimeException e) {
            LOG.debug("{} - could not send the kill signal: {}", name, e.toString());
        }
        if (pid.pid().isPresent()) {
            killProcessGroup(channel.getClientSession(), pid.pid().getAsLong());
        } else {
            LOG.debug("{} - the remote PID is unknown: only the signal request was sent", name);
        }
        try {
            if (!channel.close(false).await(ABORT_WAIT)) {
                channel.close(true);
            }
        } catch (IOException e) {
            channel.close(true);
        }
    }

    /**
     * {@code kill -KILL -- -PID} (the process group the login shell led, falling back to the
     * process alone where it leads none) over a new channel of the same session; best effort.
     */
    private void killProcessGroup(ClientSession s, long pid) {
        String kill = "kill -s KILL -- -" + pid + " 2>/dev/null || kill -s KILL " + pid + " 2>/dev/null; exit 0";
        try (ChannelExec k = s.createExecChannel(kill)) {
            k.setIn(new ByteArrayInputStream(new byte[0]));
            k.setOut(OutputStream.nullOutputStream());
            k.setErr(OutputStream.nullOutputStream());
            k.open().verify(ABORT_WAIT);
            k.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), ABORT_WAIT);
            LOG.debug("{} - killed the remote process group {} (exit {})", name, pid, k.getExitStatus());
        } catch (IOException | RuntimeException e) {
            LOG.debug("{} - could not kill the remote process group {}: {}", name, pid, e.toString());
        }
    }

    private static void closeQuietly(OutputStream o) {
        try {
            o.close();
        } catch (IOException e) {
            // in-memory streams: nothing to report
        }
    }

    private ClientSession session() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException(name + " - executor is closed");
            }
            if (session != null && sessionAlive(session)) {
                return session;
            }
            if (session != null) {
                session.close(true);
                session = null;
            }
            session = connect();
            return session;
        }
    }

    private static boolean sessionAlive(ClientSession s) {
        return s != null && s.isOpen() && !s.isClosing();
    }

    /** Called with {@link #lock} held. */
    private ClientSession connect() {
        if (client == null) {
            client = newClient();
        }
        hostKeyRejection.set(null);
        hostKeySeen.set(null);
        long start = System.nanoTime();
        ClientSession s;
        try {
            s = client.connect(target.user(), target.host(), target.port())
                    .verify(target.connectTimeout())
                    .getSession();
        } catch (IOException | RuntimeException e) {
            throw new SshException(target.host(), target.port(), PolarException.Reason.HOST_UNREACHABLE,
                    name + " - cannot connect (timeout " + target.connectTimeout().toMillis() + " ms): "
                            + rootMessage(e), e);
        }
        try {
            if (password != null) {
                s.addPasswordIdentity(password);
            }
            s.auth().verify(target.authTimeout());
        } catch (IOException | RuntimeException e) {
            s.close(true);
            String rejection = hostKeyRejection.get();
            if (rejection != null) {
                throw new SshException(target.host(), target.port(), PolarException.Reason.HOST_KEY_REJECTED,
                        name + " - host key rejected: " + rejection, e);
            }
            if (hostKeySeen.get() == null) {
                throw new SshException(target.host(), target.port(), PolarException.Reason.HOST_UNREACHABLE,
                        name + " - SSH handshake failed: " + rootMessage(e), e);
            }
            throw new SshException(target.host(), target.port(), PolarException.Reason.AUTH_FAILED,
                    name + " - authentication as '" + target.user() + "' failed (offered "
                            + target.authMethods() + "): " + rootMessage(e), e);
        }
        LOG.info("{} - connected as {} in {} ms", name, target.user(),
                Duration.ofNanos(System.nanoTime() - start).toMillis());
        return s;
    }

    private SshClient newClient() {
        KeyIdentityProvider identities = identities();
        SshClient c = SshClient.setUpDefaultClient();
        c.setHostConfigEntryResolver(HostConfigEntryResolver.EMPTY);
        c.setServerKeyVerifier(hostKeyVerifier());
        c.setKeyIdentityProvider(identities);
        c.start();
        return c;
    }

    private KeyIdentityProvider identities() {
        List<KeyPair> keys = new ArrayList<>();
        target.keyPair().ifPresent(keys::add);
        if (target.privateKeyFile().isPresent()) {
            Path file = target.privateKeyFile().get();
            try {
                keys.addAll(PrivateKeyFiles.load(file, keyPassphrase));
            } catch (PrivateKeyFiles.KeyFileException e) {
                throw new SshException(target.host(), target.port(), PolarException.Reason.AUTH_FAILED,
                        name + " - " + e.getMessage(), e);
            }
        }
        return keys.isEmpty() ? KeyIdentityProvider.EMPTY_KEYS_PROVIDER
                : KeyIdentityProvider.wrapKeyPairs(keys);
    }

    private ServerKeyVerifier hostKeyVerifier() {
        if (target.acceptsAnyHostKeyInsecurely()) {
            return (s, address, key) -> {
                hostKeySeen.set(key);
                LOG.warn("{} - INSECURE: host key checking is disabled (acceptAnyHostKeyInsecurely); accepting {} key"
                        + " {} without verification", name, KeyUtils.getKeyType(key), KeyUtils.getFingerPrint(key));
                return true;
            };
        }
        Path file = target.knownHostsFile();
        KnownHostsServerKeyVerifier knownHosts = new KnownHostsServerKeyVerifier((s, address, key) -> {
            hostKeyRejection.set("the server's " + KeyUtils.getKeyType(key) + " key " + KeyUtils.getFingerPrint(key)
                    + " is not listed for " + name + " in " + file
                    + (Files.exists(file) ? "" : " (the file does not exist)")
                    + "; verify the fingerprint out of band, then add the key (e.g. ssh-keyscan -p " + target.port()
                    + " " + target.host() + ")");
            return false;
        }, file);
        knownHosts.setModifiedServerKeyAcceptor((s, address, entry, expected, actual) -> {
            hostKeyRejection.set("the server's " + KeyUtils.getKeyType(actual) + " key "
                    + KeyUtils.getFingerPrint(actual) + " DIFFERS from the " + KeyUtils.getKeyType(expected)
                    + " key " + KeyUtils.getFingerPrint(expected) + " recorded for " + name + " in " + file
                    + ": someone may be intercepting the connection, or the host was reinstalled");
            return false;
        });
        return (s, address, key) -> {
            hostKeySeen.set(key);
            boolean ok = knownHosts.verifyServerKey(s, address, key);
            if (!ok) {
                hostKeyRejection.compareAndSet(null, "the server's " + KeyUtils.getKeyType(key) + " key "
                        + KeyUtils.getFingerPrint(key) + " was refused by " + file + " (revoked, or unreadable file)");
            }
            return ok;
        };
    }

    /** The string sent in the exec request: every argument single-quoted, run via {@code exec}. */
    static String remoteCommandLine(List<String> argv, Path workingDirectory) {
        String exec = "exec " + ShellQuoting.join(argv);
        return workingDirectory == null ? exec
                : "cd " + ShellQuoting.quote(workingDirectory.toString()) + " && " + exec;
    }

    /** 128 + the signal number, as a POSIX shell reports it; 255 for a signal this table lacks. */
    static int exitCodeForSignal(String signal) {
        String s = signal.startsWith("SIG") ? signal.substring(3) : signal;
        Integer n = SIGNALS.get(s);
        if (n == null) {
            LOG.warn("unknown exit signal '{}', reporting exit code 255", signal);
            return 255;
        }
        return 128 + n;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t + ")";
    }

    /** Closes the session and the client; commands still running fail with {@link SshException}. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (session != null) {
                session.close(true);
                session = null;
            }
            if (client != null) {
                client.stop();
                client = null;
            }
        }
        LOG.debug("{} - closed", name);
    }

    @Override
    public String toString() {
        return "SshCommandExecutor[" + target + "]";
    }
}
