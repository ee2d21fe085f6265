package dev.polarscale.examples.cli;

import dev.polarscale.core.PolarException;
import dev.polarscale.core.PolarException.Reason;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every failure reason has its documented exit code; codes of different groups differ. */
class ExitCodesTest {

    @Test
    void everyReasonButOtherHasAGroup() {
        for (Reason r : Reason.values()) {
            if (r == Reason.OTHER) {
                assertTrue(ExitCodes.group(r).isEmpty());
                assertEquals(ExitCodes.UNEXPECTED, ExitCodes.of(new PolarException(r, "x")));
            } else {
                assertTrue(ExitCodes.group(r).isPresent(), "a PolarException.Reason without an exit code group: " + r
                        + " (add it to a group of ExitCodes and to the README's table)");
            }
        }
    }

    @Test
    void groupsHaveDistinctCodesApartFromOkUnexpectedAndUsage() {
        Set<Integer> codes = new HashSet<>(List.of(ExitCodes.OK, ExitCodes.UNEXPECTED, ExitCodes.USAGE));
        for (ExitCodes.Group g : ExitCodes.Group.values()) {
            assertTrue(codes.add(g.code()), "code used twice: " + g.code());
            assertTrue(g.code() > 1 && g.code() < 256, g.name());
        }
    }

    @Test
    void failuresMapToTheirCodes() {
        assertEquals(10, ExitCodes.of(new PolarException(Reason.NODE_NOT_FOUND, "x")));
        assertEquals(11, ExitCodes.of(new PolarException(Reason.NODE_EXISTS, "x")));
        assertEquals(11, ExitCodes.of(new PolarException(Reason.PORT_IN_USE, "x")));
        assertEquals(12, ExitCodes.of(new PolarException(Reason.HOST_UNREACHABLE, "x")));
        assertEquals(13, ExitCodes.of(new PolarException(Reason.AUTH_FAILED, "x")));
        assertEquals(14, ExitCodes.of(new PolarException(Reason.LOCK_TIMEOUT, "x")));
        assertEquals(15, ExitCodes.of(new PolarException(Reason.NOT_STREAMING, "x")));
        assertEquals(16, ExitCodes.of(new PolarException(Reason.DEVICE_NOT_FORMATTED, "x")));
        assertEquals(17, ExitCodes.of(new PolarException(Reason.COMMAND_FAILED, "x")));
        assertEquals(130, ExitCodes.of(new PolarException(Reason.INTERRUPTED, "x")));
        assertEquals(130, ExitCodes.of(new InterruptedException()));
        assertEquals(64, ExitCodes.of(new IllegalArgumentException("x")));
        assertEquals(64, ExitCodes.of(new IllegalStateException("x")));
        assertEquals(64, ExitCodes.of(new ClusterFileException("f", 1, "k", "x")));
        assertEquals(1, ExitCodes.of(new NullPointerException()));
    }

    @Test
    void theHelpTableAndTheReadmeListEveryCode() throws Exception {
        List<String> table = ExitCodes.table();
        String readme = Files.readString(Path.of("").toAbsolutePath().getParent().resolve("README.md"));
        Set<Integer> all = new HashSet<>(List.of(ExitCodes.OK, ExitCodes.UNEXPECTED, ExitCodes.USAGE));
        for (ExitCodes.Group g : ExitCodes.Group.values()) {
            all.add(g.code());
            for (Reason r : g.reasons()) {
                assertTrue(readme.contains("| " + g.code() + " |") && readme.contains("`" + r + "`"),
                        "README's exit code table lists " + g.code() + " with " + r);
            }
        }
        assertEquals(all.size(), table.size(), String.join("\n", table));
        for (int code : all) {
            assertTrue(table.stream().anyMatch(l -> l.strip().startsWith(code + " ")), code + " in " + table);
        }
    }
}
