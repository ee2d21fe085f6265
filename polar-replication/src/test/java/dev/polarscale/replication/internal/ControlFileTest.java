package dev.polarscale.replication.internal;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The control-file rewrite on real files: {@code global/pg_control} of a PostgreSQL 15.18 initdb
 * and of a PolarDB-PG 15.8.2 initdb, with the identifier and nonce {@code pg_controldata} printed
 * for them, and the first WAL page of the PostgreSQL one.
 */
class ControlFileTest {

    @ParameterizedTest
    @CsvSource({
            "pg15.18.bin, 7712139036383957561, 918cf56abec51e1a05ebffa0b1c46f682f06927f68d75f4b6b4d4164e110eb85",
            "polardb15.8.2.bin, 7712139782430503306, aea99e3b7ae4ec2379b39acf7c160834f1f9ee810e1bce47e3683a9c491d17df"})
    void readsWhatPgControldataPrintsAndRewritesOnlyTheIdentity(String file, String sysid, String nonce)
            throws IOException {
        byte[] control = resource(file);
        assertEquals(288, ControlFile.crcOffset(control));
        assertEquals(Long.parseUnsignedLong(sysid), ControlFile.systemIdentifier(control));
        assertEquals(nonce, HexFormat.of().formatHex(ControlFile.nonce(control)));

        byte[] newNonce = new byte[ControlFile.NONCE_LENGTH];
        Arrays.fill(newNonce, (byte) 0x5a);
        long id = ControlFile.newSystemIdentifier(ControlFile.systemIdentifier(control),
                Instant.ofEpochSecond(1_800_000_000L), new SecureRandom());
        byte[] out = ControlFile.withIdentity(control, id, newNonce);

        assertEquals(288, ControlFile.crcOffset(out), "the CRC is valid again, where it was");
        assertEquals(id, ControlFile.systemIdentifier(out));
        assertArrayEquals(newNonce, ControlFile.nonce(out));
        assertEquals(1_800_000_000L, id >>> 32, "the creation second in the high half, as PostgreSQL does");
        for (int i = 0; i < control.length; i++) {
            boolean identity = i < 8 || (i >= 288 - 32 && i < 288 + 4);
            if (!identity) {
                assertEquals(control[i], out[i], "byte " + i + " changed");
            }
        }
        assertEquals(Long.parseUnsignedLong(sysid), ControlFile.systemIdentifier(control), "input untouched");
    }

    @Test
    void theWalPageHeaderCarriesTheSameIdentifier() throws IOException {
        byte[] header = resource("pg15.18-wal-header.bin");
        assertEquals(ControlFile.systemIdentifier(resource("pg15.18.bin")), ControlFile.walSystemIdentifier(header));
        byte[] shortHeader = header.clone();
        shortHeader[2] = 0; // XLP_LONG_HEADER cleared: a continuation page, no identifier there
        assertThrows(IllegalArgumentException.class, () -> ControlFile.walSystemIdentifier(shortHeader));
        assertThrows(IllegalArgumentException.class, () -> ControlFile.walSystemIdentifier(new byte[20]));
    }

    @Test
    void refusesWhatIsNotAControlFile() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> ControlFile.crcOffset(new byte[ControlFile.SIZE]),
                "all zeros: CRC-32C of zeros is not zero");
        byte[] damaged = resource("pg15.18.bin");
        damaged[100] ^= 1;
        assertThrows(IllegalArgumentException.class, () -> ControlFile.crcOffset(damaged));
        assertThrows(IllegalArgumentException.class, () -> ControlFile.crcOffset(new byte[512]), "wrong size");
        assertThrows(IllegalArgumentException.class, () -> ControlFile.withIdentity(resource("pg15.18.bin"), 1,
                new byte[31]), "nonce size");
    }

    @Test
    void aStructOfAnotherSizeIsFoundByItsCrc() {
        byte[] control = new byte[ControlFile.SIZE];
        new SecureRandom().nextBytes(control);
        Arrays.fill(control, 200, control.length, (byte) 0);
        CRC32C c = new CRC32C();
        c.update(control, 0, 196);
        java.nio.ByteBuffer.wrap(control, 196, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((int) c.getValue());
        assertEquals(196, ControlFile.crcOffset(control));
        byte[] out = ControlFile.withIdentity(control, 42, new byte[32]);
        assertEquals(196, ControlFile.crcOffset(out));
        assertEquals(42, ControlFile.systemIdentifier(out));
    }

    @Test
    void newIdentifiersDifferFromTheOldAndFromEachOther() {
        SecureRandom r = new SecureRandom();
        Instant now = Instant.now();
        long a = ControlFile.newSystemIdentifier(7, now, r);
        long b = ControlFile.newSystemIdentifier(7, now, r);
        assertNotEquals(a, b);
        assertNotEquals(7, a);
    }

    @Test
    void octalPrintfTextAndOdOutputRoundTrip() {
        byte[] all = new byte[256];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        String printf = ControlFile.printfOctal(all);
        assertTrue(printf.startsWith("\\000\\001\\002") && printf.endsWith("\\377"), printf);
        assertEquals(256 * 4, printf.length());
        String od = " 00 01 02 03\n ff 7f\n";
        assertArrayEquals(new byte[]{0, 1, 2, 3, (byte) 0xff, 0x7f}, ControlFile.fromOd(List.of(od.split("\n"))));
        assertThrows(IllegalArgumentException.class, () -> ControlFile.fromOd(List.of("0000000 00 01")));
        assertArrayEquals(ControlFile.littleEndian(0x0102030405060708L),
                new byte[]{8, 7, 6, 5, 4, 3, 2, 1});
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = ControlFileTest.class.getResourceAsStream("/pg_control/" + name)) {
            if (in == null) {
                throw new IOException("test resource /pg_control/" + name + " missing");
            }
            return in.readAllBytes();
        }
    }
}
