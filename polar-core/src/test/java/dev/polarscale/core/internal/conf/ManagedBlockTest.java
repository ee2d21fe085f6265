package dev.polarscale.core.internal.conf;

import dev.polarscale.core.PolarException;
import org.junit.jupiter.api.Test;

import static dev.polarscale.core.internal.conf.ManagedBlock.Position.BOTTOM;
import static dev.polarscale.core.internal.conf.ManagedBlock.Position.TOP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManagedBlockTest {
    private static final String B = ManagedBlock.BEGIN + "\n";
    private static final String E = ManagedBlock.END + "\n";

    @Test
    void bottomAndTop() {
        assertEquals("a\nb\n" + B + "x=1\n" + E, ManagedBlock.merge("a\nb\n", "x=1\n", BOTTOM, "f"));
        assertEquals(B + "x=1\n" + E + "a\nb\n", ManagedBlock.merge("a\nb\n", "x=1\n", TOP, "f"));
        assertEquals(B + "x=1\n" + E, ManagedBlock.merge("", "x=1\n", BOTTOM, "f"));
    }

    @Test
    void fileWithoutFinalNewlineGetsOne() {
        String merged = ManagedBlock.merge("a", "x=1\n", BOTTOM, "f");
        assertEquals("a\n" + B + "x=1\n" + E, merged);
        assertEquals(merged, ManagedBlock.merge(merged, "x=1\n", BOTTOM, "f"));
    }

    @Test
    void everyOldBlockIsRemovedAndOtherLinesKeptByteForByte() {
        String userLines = "# comment\r\n\n  port = 1  # x\n\t\n";
        String messy = B + "x=0\n" + E + userLines + "  " + ManagedBlock.BEGIN + "  \r\ny=0\n" + ManagedBlock.END + "\r\n"
                + "tail\n";
        assertEquals(userLines + "tail\n" + B + "x=1\n" + E, ManagedBlock.merge(messy, "x=1\n", BOTTOM, "f"));
        assertEquals(B + "x=1\n" + E + userLines + "tail\n", ManagedBlock.merge(messy, "x=1\n", TOP, "f"));
    }

    @Test
    void brokenMarkersFailNamingFileAndLine() {
        PolarException noEnd = assertThrows(PolarException.class,
                () -> ManagedBlock.merge("a\n" + B + "x=1\n", "x=2\n", BOTTOM, "postgresql.conf"));
        assertTrue(noEnd.getMessage().startsWith("postgresql.conf: "), noEnd.getMessage());
        assertTrue(noEnd.getMessage().contains("line 2"), noEnd.getMessage());
        PolarException noBegin = assertThrows(PolarException.class,
                () -> ManagedBlock.merge("a\n" + E, "x=2\n", TOP, "pg_hba.conf"));
        assertTrue(noBegin.getMessage().contains("pg_hba.conf") && noBegin.getMessage().contains("line 2"));
        PolarException nested = assertThrows(PolarException.class,
                () -> ManagedBlock.merge(B + B + E, "", TOP, "f"));
        assertTrue(nested.getMessage().contains("line 2"), nested.getMessage());
    }

    @Test
    void bodyMustBeWholeLines() {
        assertThrows(IllegalArgumentException.class, () -> ManagedBlock.merge("", "x=1", BOTTOM, "f"));
    }

    @Test
    void replaceInPlaceKeepsTheBlockWhereItIsAndPlacesANewOne() {
        String mid = "a\n" + ManagedBlock.BEGIN + "\nold\n" + ManagedBlock.END + "\nb\n";
        assertEquals("a\n" + ManagedBlock.BEGIN + "\nnew\n" + ManagedBlock.END + "\nb\n",
                ManagedBlock.replaceInPlace(mid, "new\n", ManagedBlock.Position.TOP, "pg_hba.conf"));
        assertEquals("a\nb\n" + ManagedBlock.BEGIN + "\nnew\n" + ManagedBlock.END + "\n",
                ManagedBlock.replaceInPlace("a\nb\n", "new\n", ManagedBlock.Position.BOTTOM, "pg_hba.conf"));
        assertEquals(ManagedBlock.BEGIN + "\nnew\n" + ManagedBlock.END + "\na\nb\n",
                ManagedBlock.replaceInPlace("a\nb\n", "new\n", ManagedBlock.Position.TOP, "pg_hba.conf"));
        String twice = ManagedBlock.replaceInPlace(mid, "new\n", ManagedBlock.Position.TOP, "f");
        assertEquals(twice, ManagedBlock.replaceInPlace(twice, "new\n", ManagedBlock.Position.BOTTOM, "f"),
                "idempotent, and an existing block stays where it is");
        assertThrows(PolarException.class, () -> ManagedBlock.replaceInPlace("a\n" + ManagedBlock.BEGIN + "\n",
                "x\n", ManagedBlock.Position.TOP, "f"));
    }
}
