package dev.polarscale.core.internal.ssh;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.OptionalLong;

/**
 * Learns the remote PID of an SSH command from a line the remote shell writes to stderr before
 * it {@code exec}s the command ({@code echo 'polarscale-pid:TOKEN:'$$ >&2}), and keeps that line
 * out of the command's stderr. The token is random per command, so no output of the command can
 * be mistaken for it.
 *
 * <p>Why: on a timeout the executor sends the SSH "signal" request, but OpenSSH refuses it for
 * root logins ("session signalling requires privilege separation"), so the command would run on.
 * With the PID (the login shell's, which {@code exec} hands to the command, and which leads the
 * session's process group) the executor kills that process group through a second channel.
 */
final class RemotePidFilter extends OutputStream {
    private static final int MAX_SEARCH_LINE = 4096;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final OutputStream delegate;
    private final String prefix;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private volatile long pid = -1;
    private boolean searching = true;

    RemotePidFilter(OutputStream delegate) {
        this.delegate = delegate;
        byte[] token = new byte[12];
        RANDOM.nextBytes(token);
        this.prefix = "polarscale-pid:" + HexFormat.of().formatHex(token) + ":";
    }

    /** The shell code to put before the command line: it reports the shell's PID on stderr. */
    String reportCommand() {
        return "echo '" + prefix + "'$$ >&2; ";
    }

    /** The remote PID, once its line has arrived. */
    OptionalLong pid() {
        long p = pid;
        return p > 0 ? OptionalLong.of(p) : OptionalLong.empty();
    }

    @Override
    public synchronized void write(int b) throws IOException {
        write(new byte[]{(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        if (!searching) {
            delegate.write(b, off, len);
            return;
        }
        int start = off;
        for (int i = off; i < off + len && searching; i++) {
            if (b[i] == '\n') {
                line.write(b, start, i - start);
                start = i + 1;
                endOfLine(true);
            }
        }
        if (searching) {
            line.write(b, start, off + len - start);
            if (line.size() > MAX_SEARCH_LINE) {
                line.writeTo(delegate);
                line.reset();
            }
        } else if (start < off + len) {
            delegate.write(b, start, off + len - start);
        }
    }

    /** A complete line while searching: the PID report is swallowed, anything else passed on. */
    private void endOfLine(boolean newline) throws IOException {
        String s = line.toString(StandardCharsets.UTF_8);
        if (s.startsWith(prefix) && s.substring(prefix.length()).matches("\\d{1,10}")) {
            pid = Long.parseLong(s.substring(prefix.length()));
            searching = false;
        } else {
            line.writeTo(delegate);
            if (newline) {
                delegate.write('\n');
            }
        }
        line.reset();
    }

    @Override
    public synchronized void flush() throws IOException {
        delegate.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        if (searching && line.size() > 0) {
            endOfLine(false);
        }
        delegate.close();
    }
}
