package dev.polarscale.core.internal.ssh;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RemotePidFilterTest {
    private static final Pattern REPORT = Pattern.compile("echo '(polarscale-pid:[0-9a-f]{24}:)'\\$\\$ >&2; ");

    private static String prefix(RemotePidFilter f) {
        Matcher m = REPORT.matcher(f.reportCommand());
        assertTrue(m.matches(), f.reportCommand());
        return m.group(1);
    }

    @Test
    void thePidLineIsTakenOutAndEverythingElseKept() throws IOException {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        RemotePidFilter f = new RemotePidFilter(err);
        String stream = "login noise\n" + prefix(f) + "4242\nerr 1\nerr 2 without newline";
        // byte by byte, the worst split the channel can deliver
        for (byte b : stream.getBytes(StandardCharsets.UTF_8)) {
            f.write(b);
        }
        f.close();
        assertEquals(OptionalLong.of(4242), f.pid());
        assertEquals("login noise\nerr 1\nerr 2 without newline", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void oneWriteHoldingEverything() throws IOException {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        RemotePidFilter f = new RemotePidFilter(err);
        f.write((prefix(f) + "7\nünïcödé\n\n").getBytes(StandardCharsets.UTF_8));
        f.close();
        assertEquals(OptionalLong.of(7), f.pid());
        assertEquals("ünïcödé\n\n", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void withoutAReportNothingIsLostOrInvented() throws IOException {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        RemotePidFilter f = new RemotePidFilter(err);
        String other = new RemotePidFilter(new ByteArrayOutputStream()).reportCommand();
        String text = "polarscale-pid:" + "0".repeat(24) + ":12\n" + other + "\n" + "x".repeat(10_000) + "\nend";
        f.write(text.getBytes(StandardCharsets.UTF_8));
        f.close();
        assertEquals(OptionalLong.empty(), f.pid());
        assertEquals(text, err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void tokensDifferPerCommand() {
        assertNotEquals(new RemotePidFilter(new ByteArrayOutputStream()).reportCommand(),
                new RemotePidFilter(new ByteArrayOutputStream()).reportCommand());
    }
}
