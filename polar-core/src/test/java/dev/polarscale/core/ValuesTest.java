package dev.polarscale.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ValuesTest {

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 65536, 100000})
    void badPortsAreRejectedByValue(int p) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Port.of(p));
        assertTrue(e.getMessage().contains(Integer.toString(p)), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 513, -5})
    void badHostIdsAreRejected(int id) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostId.of(id));
        assertTrue(e.getMessage().contains("1..512"), e.getMessage());
    }

    @Test
    void hostIdBounds() {
        assertEquals(1, HostId.of(1).value());
        assertEquals(512, HostId.of(512).value());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Replica1", "a-b", "a b", "a'b", "x;drop", "1234567890123456789012345678901234567890123456789012345678901234"})
    void badSlotNames(String s) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SlotName.of(s));
        assertTrue(e.getMessage().contains("'" + s + "'"), e.getMessage());
    }

    @Test
    void slotNameLimits() {
        assertEquals("replica_1", SlotName.of("replica_1").value());
        assertEquals(63, SlotName.of("a".repeat(63)).value().length());
    }

    @Test
    void lsnParsesFormatsAndCompares() {
        Lsn a = Lsn.parse("0/3000148");
        assertEquals("0/3000148", a.toString());
        assertEquals(328, a.bytesSince(Lsn.parse("0/3000000")));
        Lsn high = Lsn.parse("FFFFFFFF/FFFFFFFF");
        assertEquals("FFFFFFFF/FFFFFFFF", high.toString());
        assertTrue(high.compareTo(a) > 0, "unsigned comparison");
        assertFalse(Lsn.INVALID.isValid());
        assertEquals(Lsn.INVALID, Lsn.parse("0/0"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/", "0/", "/0", "0-0", "g/0", "123456789/0", "0/123456789"})
    void badLsns(String s) {
        assertThrows(IllegalArgumentException.class, () -> Lsn.parse(s));
    }

    @Test
    void commandResultTail() {
        assertEquals("c\nd", CommandResult.tail("a\nb\nc\nd\n", 2));
        assertEquals("only", CommandResult.tail("only", 3));
    }
}
