package dev.polarscale.core.internal.exec;

import dev.polarscale.core.OutputListener;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Collects everything a process writes to one stream and, when a listener is set, hands it
 * complete lines (UTF-8, without the line terminator) as they arrive.
 */
public final class LineTee extends OutputStream {
    private final ByteArrayOutputStream all = new ByteArrayOutputStream();
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final OutputListener listener;
    private final OutputListener.Stream stream;

    public LineTee(OutputListener listener, OutputListener.Stream stream) {
        this.listener = listener;
        this.stream = stream;
    }

    @Override
    public synchronized void write(int b) {
        all.write(b);
        if (listener != null) {
            if (b == '\n') {
                emit();
            } else {
                line.write(b);
            }
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        all.write(b, off, len);
        if (listener != null) {
            int start = off;
            for (int i = off; i < off + len; i++) {
                if (b[i] == '\n') {
                    line.write(b, start, i - start);
                    emit();
                    start = i + 1;
                }
            }
            line.write(b, start, off + len - start);
        }
    }

    private void emit() {
        String s = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (s.endsWith("\r")) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            listener.onLine(stream, s);
        } catch (RuntimeException e) {
            // a faulty listener must not break the pump that drains the process
        }
    }

    /** Emits a last line that had no terminator. */
    @Override
    public synchronized void close() {
        if (listener != null && line.size() > 0) {
            emit();
        }
    }

    public synchronized String text() {
        return all.toString(StandardCharsets.UTF_8);
    }
}
