package dev.polarscale.replication.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * What makes a copied data directory a cluster of its own: a new system identifier and mock
 * authentication nonce in {@code global/pg_control}, and the same identifier in the long header of
 * every WAL segment (the server refuses WAL "from a different database system"). This is what
 * PostgreSQL 17's {@code pg_resetwal --system-identifier} does; 15 has no such option and the
 * embedded binaries no {@code pg_resetwal} at all, so it is done here, on bytes. Pure functions.
 *
 * <p>Layout, the same from PostgreSQL 10 on and in PolarDB-PG 15: the file is 8192 bytes;
 * {@code ControlFileData} starts with the identifier (a little-endian {@code uint64}) and ends with
 * the 32-byte nonce and a CRC-32C of everything before the CRC. The CRC's offset is not assumed:
 * it is the one 4-aligned offset whose stored value matches, so a different struct size still
 * works and a file that is not a control file is refused. A WAL segment's first page starts with
 * a long header: {@code xlp_info} (bit {@code XLP_LONG_HEADER}) at offset 2, {@code xlp_sysid} at 24.
 */
final class ControlFile {
    static final int SIZE = 8192;
    static final int NONCE_LENGTH = 32;
    static final int WAL_SYSID_OFFSET = 24;
    static final int WAL_HEADER_LENGTH = 40;
    private static final int XLP_LONG_HEADER = 0x0002;
    private static final int MIN_CRC_OFFSET = 64;
    private static final int MAX_CRC_OFFSET = 1024;

    private ControlFile() {
    }

    /** The offset of the CRC: the one 4-aligned offset whose stored CRC-32C covers the bytes before it. */
    static int crcOffset(byte[] control) {
        requireSize(control);
        int found = -1;
        for (int k = MIN_CRC_OFFSET; k + 4 <= MAX_CRC_OFFSET; k += 4) {
            if (crc(control, k) == le(control, k).getInt()) {
                if (found >= 0) {
                    throw new IllegalArgumentException("pg_control: two offsets (" + found + ", " + k
                            + ") hold a matching CRC-32C; not rewriting an ambiguous file");
                }
                found = k;
            }
        }
        if (found < 0) {
            throw new IllegalArgumentException("pg_control: no CRC-32C matches at any offset below "
                    + MAX_CRC_OFFSET + ": not a control file of PostgreSQL 10 or later");
        }
        return found;
    }

    static long systemIdentifier(byte[] control) {
        requireSize(control);
        return le(control, 0).getLong();
    }

    /** The control file with a new identifier and nonce, and its CRC recomputed. */
    static byte[] withIdentity(byte[] control, long systemIdentifier, byte[] nonce) {
        if (nonce.length != NONCE_LENGTH) {
            throw new IllegalArgumentException("nonce must be " + NONCE_LENGTH + " bytes: " + nonce.length);
        }
        int crcAt = crcOffset(control);
        byte[] out = control.clone();
        le(out, 0).putLong(systemIdentifier);
        System.arraycopy(nonce, 0, out, crcAt - NONCE_LENGTH, NONCE_LENGTH);
        le(out, crcAt).putInt(crc(out, crcAt));
        return out;
    }

    /** The nonce: the 32 bytes before the CRC. */
    static byte[] nonce(byte[] control) {
        int crcAt = crcOffset(control);
        return Arrays.copyOfRange(control, crcAt - NONCE_LENGTH, crcAt);
    }

    /**
     * The system identifier in a WAL segment's long page header.
     *
     * @throws IllegalArgumentException the bytes do not start with a long page header
     */
    static long walSystemIdentifier(byte[] header) {
        if (header.length < WAL_HEADER_LENGTH) {
            throw new IllegalArgumentException("WAL page header: " + header.length + " bytes, need "
                    + WAL_HEADER_LENGTH);
        }
        if ((le(header, 2).getShort() & XLP_LONG_HEADER) == 0) {
            throw new IllegalArgumentException("WAL segment does not start with a long page header");
        }
        return le(header, WAL_SYSID_OFFSET).getLong();
    }

    /** A fresh identifier as PostgreSQL makes one (creation second in the high half), never {@code old}. */
    static long newSystemIdentifier(long old, Instant now, SecureRandom random) {
        while (true) {
            long id = (now.getEpochSecond() << 32) | (random.nextInt() & 0xFFFF_FFFFL);
            if (id != old && id != 0) {
                return id;
            }
        }
    }

    static byte[] littleEndian(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    }

    /** {@code printf} format text writing exactly these bytes ({@code \ooo} for each: POSIX sh, dash, busybox). */
    static String printfOctal(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 4);
        for (byte b : bytes) {
            sb.append('\\').append(String.format("%03o", b & 0xFF));
        }
        return sb.toString();
    }

    /** Bytes from {@code od -An -v -tx1} output lines (whitespace-separated hex pairs). */
    static byte[] fromOd(List<String> lines) {
        StringBuilder hex = new StringBuilder();
        for (String l : lines) {
            for (String tok : l.trim().split("\\s+")) {
                if (!tok.isEmpty()) {
                    if (tok.length() != 2) {
                        throw new IllegalArgumentException("not od -tx1 output: '" + tok + "'");
                    }
                    hex.append(tok);
                }
            }
        }
        return HexFormat.of().parseHex(hex);
    }

    private static void requireSize(byte[] control) {
        if (control.length != SIZE) {
            throw new IllegalArgumentException("pg_control must be " + SIZE + " bytes: " + control.length);
        }
    }

    private static int crc(byte[] b, int length) {
        CRC32C c = new CRC32C();
        c.update(b, 0, length);
        return (int) c.getValue();
    }

    private static ByteBuffer le(byte[] b, int offset) {
        return ByteBuffer.wrap(b, offset, b.length - offset).slice().order(ByteOrder.LITTLE_ENDIAN);
    }
}
