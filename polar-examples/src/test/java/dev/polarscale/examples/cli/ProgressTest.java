package dev.polarscale.examples.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Progress lines: plain ones for pipes and logs, lines rewritten in place on a terminal. */
class ProgressTest {

    private static String run(boolean terminal, boolean unicode) {
        StringWriter w = new StringWriter();
        Progress p = new Progress(new PrintWriter(w), terminal, unicode);
        p.stepStarted("addStandby s1", "create slot");
        p.stepFinished("addStandby s1", "create slot", Duration.ofMillis(4));
        p.stepStarted("addStandby s1", "base backup");
        p.stepFailed("addStandby s1", "base backup", new IllegalStateException("disk full\nmore"));
        p.stepUndone("addStandby s1", "create slot");
        return w.toString();
    }

    @Test
    void plainLinesWhenNotATerminal() {
        assertEquals(String.join(System.lineSeparator(),
                "addStandby s1: step create slot done in 4 ms",
                "addStandby s1: step base backup FAILED: disk full ...",
                "addStandby s1: step create slot undone", ""), run(false, true));
    }

    @Test
    void onATerminalARunningStepIsReplacedByItsResult() {
        String nl = System.lineSeparator();
        assertEquals("addStandby s1" + nl
                + "  … create slot\r\033[K  ✓ create slot                    4 ms" + nl
                + "  … base backup\r\033[K  ✗ base backup              disk full ..." + nl
                + "  ↶ create slot              undone" + nl, run(true, true));
    }

    @Test
    void asciiWhereTheTerminalCannotShowUnicode() {
        String out = run(true, false);
        assertEquals(3, out.lines().filter(l -> l.contains("  ok ") || l.contains("FAILED") || l.contains("<-")).count(),
                out);
    }
}
