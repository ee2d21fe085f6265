package dev.polarscale.core;

import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process MINA SSH server on 127.0.0.1 that runs each exec request with a real
 * {@code /bin/sh -c <string>}, the way OpenSSH's sshd hands it to the login shell: stdin,
 * stdout and stderr are pumped, and the real exit code is returned. Not MINA's
 * {@code ProcessShellCommandFactory}, which splits the string on spaces.
 *
 * <p>Like sshd without a pty, closing a channel does not kill the process; an SSH "signal"
 * request kills it (and its descendants). Every process started is recorded, so tests can
 * check what happened to it; all still alive are killed on {@link #close()}.
 */
final class ShellSshServer implements AutoCloseable {
    static final String USER = "polar";
    static final String PASSWORD = "correct horse 'battery' $taple";

    final KeyPair hostKey;
    final KeyPair clientKey;
    final AtomicInteger sessionsCreated = new AtomicInteger();
    final Queue<Started> started = new ConcurrentLinkedQueue<>();
    private final SshServer sshd;

    /** One command the server ran, and which signals it received. */
    record Started(String commandLine, Process process, Queue<String> signals) {
    }

    ShellSshServer(Path home) throws IOException, GeneralSecurityException {
        this(home, ecKey(), ecKey(), 0);
    }

    /** A server with given keys on a given port (0: any), e.g. to restart one "after a reboot". */
    ShellSshServer(Path home, KeyPair hostKey, KeyPair clientKey, int port) throws IOException {
        Charset jnu = Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        if (!jnu.equals(StandardCharsets.UTF_8)) {
            // ProcessBuilder encodes arguments with sun.jnu.encoding: anything else mangles non-ASCII.
            throw new IllegalStateException("the test JVM must run in a UTF-8 locale (sun.jnu.encoding=" + jnu
                    + "); set LC_ALL=C.UTF-8");
        }
        this.hostKey = hostKey;
        this.clientKey = clientKey;
        sshd = SshServer.setUpDefaultServer();
        sshd.setHost("127.0.0.1");
        sshd.setPort(port);
        sshd.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
        sshd.setPublickeyAuthenticator((user, key, session) -> USER.equals(user)
                && KeyUtils.compareKeys(key, clientKey.getPublic()));
        sshd.setPasswordAuthenticator((user, password, session) -> USER.equals(user) && PASSWORD.equals(password));
        sshd.addSessionListener(new SessionListener() {
            @Override
            public void sessionCreated(Session session) {
                sessionsCreated.incrementAndGet();
            }
        });
        sshd.setCommandFactory((channel, commandLine) -> new ShellCommand(commandLine, home));
        sshd.start();
    }

    static KeyPair ecKey() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    int port() {
        return sshd.getPort();
    }

    /** A known_hosts line for this server's address with {@code key}. */
    String knownHostsLine(KeyPair key) {
        return "[127.0.0.1]:" + port() + " " + PublicKeyEntry.toString(key.getPublic()) + "\n";
    }

    /** Drops every client connection, as a restarted sshd or a network cut would. */
    void closeAllSessions() {
        sshd.getActiveSessions().forEach(s -> s.close(true));
    }

    List<Started> startedMatching(String fragment) {
        return started.stream().filter(s -> s.commandLine().contains(fragment)).toList();
    }

    @Override
    public void close() throws IOException {
        sshd.stop(true);
        for (Started s : started) {
            killTree(s.process());
        }
    }

    static void killTree(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    private final class ShellCommand implements Command {
        private final String commandLine;
        private final Path home;
        private InputStream in;
        private OutputStream out;
        private OutputStream err;
        private ExitCallback exit;

        ShellCommand(String commandLine, Path home) {
            this.commandLine = commandLine;
            this.home = home;
        }

        @Override
        public void setInputStream(InputStream in) {
            this.in = in;
        }

        @Override
        public void setOutputStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void setErrorStream(OutputStream err) {
            this.err = err;
        }

        @Override
        public void setExitCallback(ExitCallback callback) {
            this.exit = callback;
        }

        @Override
        public void start(ChannelSession channel, Environment env) throws IOException {
            Process p = new ProcessBuilder("/bin/sh", "-c", commandLine).directory(home.toFile()).start();
            Started s = new Started(commandLine, p, new ConcurrentLinkedQueue<>());
            started.add(s);
            env.addSignalListener((ch, signal) -> {
                s.signals().add(signal.name());
                killTree(p);
            });
            daemon("stdin", () -> {
                try (OutputStream toProcess = p.getOutputStream()) {
                    in.transferTo(toProcess);
                } catch (IOException e) {
                    // the process exited without reading everything, or the channel closed
                }
            });
            Thread stdout = daemon("stdout", () -> pump(p.getInputStream(), out));
            Thread stderr = daemon("stderr", () -> pump(p.getErrorStream(), err));
            daemon("exit", () -> {
                try {
                    int code = p.waitFor();
                    stdout.join(TimeUnit.SECONDS.toMillis(10));
                    stderr.join(TimeUnit.SECONDS.toMillis(10));
                    exit.onExit(code);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        private void pump(InputStream from, OutputStream to) {
            byte[] buf = new byte[8192];
            try (from) {
                int n;
                while ((n = from.read(buf)) >= 0) {
                    to.write(buf, 0, n);
                    to.flush();
                }
            } catch (IOException e) {
                // channel closed: stop reading, so the process gets SIGPIPE on its next write
            }
        }

        private Thread daemon(String what, Runnable r) {
            Thread t = new Thread(r, "sh-" + what);
            t.setDaemon(true);
            t.start();
            return t;
        }

        @Override
        public void destroy(ChannelSession channel) {
            // Like sshd without a pty: the process is not killed when the channel closes.
        }
    }
}
