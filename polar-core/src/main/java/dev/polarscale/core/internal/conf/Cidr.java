package dev.polarscale.core.internal.conf;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A strictly parsed IPv4 or IPv6 network in CIDR notation, without any name lookup. IPv4 must be
 * four decimal octets without leading zeros ({@code getaddrinfo} would read {@code 010.1} as
 * {@code 8.0.0.1}); the prefix is mandatory; host bits must be zero, so {@code 10.0.0.1/8} is
 * rejected instead of silently meaning {@code 10.0.0.0/8}.
 *
 * @param text    the network as written in pg_hba.conf (IPv6 lower-cased)
 * @param address 4 or 16 bytes
 */
public record Cidr(String text, byte[] address, int prefix) {
    private static final Pattern OCTET = Pattern.compile("0|[1-9][0-9]{0,2}");
    private static final Pattern HEXTET = Pattern.compile("[0-9a-fA-F]{1,4}");

    public Cidr {
        Objects.requireNonNull(text, "text");
        address = address.clone();
    }

    @Override
    public byte[] address() {
        return address.clone();
    }

    public boolean isIpv6() {
        return address.length == 16;
    }

    /** Whether this network holds every address of its family ({@code /0}). */
    public boolean isEverything() {
        return prefix == 0;
    }

    public static Cidr parse(String cidr) {
        Objects.requireNonNull(cidr, "cidr");
        int slash = cidr.indexOf('/');
        if (slash < 0) {
            throw bad(cidr, "no '/prefix'");
        }
        String addr = cidr.substring(0, slash);
        String len = cidr.substring(slash + 1);
        byte[] bytes = addr.indexOf(':') >= 0 ? parseIpv6(cidr, addr) : parseIpv4(cidr, addr);
        int max = bytes.length * 8;
        if (!len.matches("0|[1-9][0-9]{0,2}") || Integer.parseInt(len) > max) {
            throw bad(cidr, "prefix length must be 0.." + max);
        }
        int prefix = Integer.parseInt(len);
        for (int bit = prefix; bit < max; bit++) {
            if ((bytes[bit / 8] & (0x80 >>> (bit % 8))) != 0) {
                throw bad(cidr, "host bits are set after /" + prefix);
            }
        }
        return new Cidr(bytes.length == 16 ? cidr.toLowerCase(Locale.ROOT) : cidr, bytes, prefix);
    }

    private static byte[] parseIpv4(String cidr, String addr) {
        String[] parts = addr.split("\\.", -1);
        if (parts.length != 4) {
            throw bad(cidr, "an IPv4 address has four dotted decimal octets");
        }
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            if (!OCTET.matcher(parts[i]).matches() || Integer.parseInt(parts[i]) > 255) {
                throw bad(cidr, "octet '" + parts[i] + "' is not 0..255 without leading zeros");
            }
            b[i] = (byte) Integer.parseInt(parts[i]);
        }
        return b;
    }

    private static byte[] parseIpv6(String cidr, String addr) {
        int gap = addr.indexOf("::");
        if (gap >= 0 && addr.indexOf("::", gap + 1) >= 0) {
            throw bad(cidr, "'::' may appear only once");
        }
        int[] head = hextets(cidr, gap < 0 ? addr : addr.substring(0, gap), gap < 0);
        int[] tail = gap < 0 ? new int[0] : hextets(cidr, addr.substring(gap + 2), true);
        int groups = head.length + tail.length;
        if (gap < 0 ? groups != 8 : groups > 7) {
            throw bad(cidr, "an IPv6 address has eight groups");
        }
        byte[] b = new byte[16];
        for (int i = 0; i < head.length; i++) {
            b[2 * i] = (byte) (head[i] >>> 8);
            b[2 * i + 1] = (byte) head[i];
        }
        for (int i = 0; i < tail.length; i++) {
            int at = 8 - tail.length + i;
            b[2 * at] = (byte) (tail[i] >>> 8);
            b[2 * at + 1] = (byte) tail[i];
        }
        return b;
    }

    /** Groups of one side of {@code ::}; a trailing dotted IPv4 part counts as two groups. */
    private static int[] hextets(String cidr, String part, boolean isLast) {
        if (part.isEmpty()) {
            return new int[0];
        }
        String[] groups = part.split(":", -1);
        String last = groups[groups.length - 1];
        boolean v4 = last.indexOf('.') >= 0;
        if (v4 && !isLast) {
            throw bad(cidr, "an embedded IPv4 address must come last");
        }
        int[] out = new int[groups.length + (v4 ? 1 : 0)];
        for (int i = 0; i < groups.length - (v4 ? 1 : 0); i++) {
            if (!HEXTET.matcher(groups[i]).matches()) {
                throw bad(cidr, "'" + groups[i] + "' is not an IPv6 group of 1..4 hex digits");
            }
            out[i] = Integer.parseInt(groups[i], 16);
        }
        if (v4) {
            byte[] b = parseIpv4(cidr, last);
            out[groups.length - 1] = (b[0] & 0xff) << 8 | (b[1] & 0xff);
            out[groups.length] = (b[2] & 0xff) << 8 | (b[3] & 0xff);
        }
        return out;
    }

    private static IllegalArgumentException bad(String cidr, String why) {
        return new IllegalArgumentException("invalid CIDR address '" + GucSyntax.printable(cidr) + "': " + why
                + " (expected e.g. 10.0.0.0/8 or fd00::/8)");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && Arrays.equals(c.address, address);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(address) + prefix;
    }

    @Override
    public String toString() {
        return text;
    }
}
