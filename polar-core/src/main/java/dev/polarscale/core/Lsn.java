package dev.polarscale.core;

import java.util.Objects;

/**
 * A WAL position ({@code pg_lsn}), like pgjdbc's {@code LogSequenceNumber}: parsed from and
 * formatted as {@code XXXXXXXX/XXXXXXXX}, compared as an unsigned 64-bit number.
 *
 * <pre>{@code
 * long lag = Lsn.parse("0/3000148").bytesSince(Lsn.parse("0/3000000")); // 328
 * }</pre>
 */
public record Lsn(long value) implements Comparable<Lsn> {

    /** {@code 0/0}, what PostgreSQL uses for "no position". */
    public static final Lsn INVALID = new Lsn(0);

    public static Lsn parse(String text) {
        Objects.requireNonNull(text, "lsn");
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || slash > 8 || text.length() - slash - 1 > 8) {
            throw new IllegalArgumentException("invalid LSN '" + text + "': expected XXXXXXXX/XXXXXXXX");
        }
        try {
            long hi = Long.parseLong(text.substring(0, slash), 16);
            long lo = Long.parseLong(text.substring(slash + 1), 16);
            return new Lsn(hi << 32 | lo);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid LSN '" + text + "': expected XXXXXXXX/XXXXXXXX", e);
        }
    }

    public boolean isValid() {
        return value != 0;
    }

    /** Bytes from {@code earlier} to this position (negative if this one is earlier). */
    public long bytesSince(Lsn earlier) {
        return value - earlier.value;
    }

    @Override
    public int compareTo(Lsn o) {
        return Long.compareUnsigned(value, o.value);
    }

    @Override
    public String toString() {
        return String.format("%X/%X", value >>> 32, value & 0xFFFFFFFFL);
    }
}
