package dev.polarscale.storage.internal;

import dev.polarscale.storage.BlockDevice;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code lsblk -b -P -o NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT,PKNAME}: one device per
 * line as {@code KEY="value"} pairs, a format every util-linux since 2.19 prints (unlike
 * {@code -J}, which needs 2.27 and changed its value types in 2.33). The tree comes from
 * {@code PKNAME}: a line is a child of the latest earlier line whose {@code NAME} is its
 * {@code PKNAME} (a device with two parents, such as a RAID or multipath device, is printed once
 * below each).
 *
 * <p>Escapes: lsblk prints a byte that is unsafe in a shell-quoted value as {@code \xHH} (2.38:
 * {@code "}, {@code $}, {@code \}, {@code `} and every byte of a non-ASCII character; 2.23 also
 * the space). The bytes are collected and decoded as UTF-8, so {@code \xc3\xa9} is {@code é}; a
 * malformed sequence is an error, never a guess. Some releases spell the key {@code MAJ_MIN}.
 *
 * <p>A missing column or a malformed value is an {@link IllegalArgumentException}: wrong facts
 * about a disk are worse than none.
 */
public final class LsblkParser {
    /** The columns {@code lsblk -o} is asked for, in order. */
    public static final String COLUMNS = "NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT,PKNAME";

    private static final Pattern PAIR = Pattern.compile("([A-Z][A-Z0-9_:%-]*)=\"([^\"]*)\"");

    private LsblkParser() {
    }

    /** The top-level devices, each with the devices stacked on it. */
    public static List<BlockDevice> parsePairs(String text) {
        List<Node> roots = new ArrayList<>();
        List<Node> seen = new ArrayList<>();
        int lineNo = 0;
        for (String line : text.split("\n")) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            Map<String, String> kv = pairs(line.strip(), lineNo);
            Node n = new Node(kv, lineNo);
            String parent = kv.getOrDefault("PKNAME", "");
            Node p = null;
            if (!parent.isEmpty()) {
                for (int i = seen.size() - 1; i >= 0; i--) {
                    if (seen.get(i).name().equals(parent)) {
                        p = seen.get(i);
                        break;
                    }
                }
            }
            if (p == null) {
                roots.add(n);
            } else {
                p.children.add(n);
            }
            seen.add(n);
        }
        List<BlockDevice> out = new ArrayList<>();
        for (Node r : roots) {
            out.add(r.toDevice());
        }
        return List.copyOf(out);
    }

    private static Map<String, String> pairs(String line, int lineNo) {
        Map<String, String> kv = new LinkedHashMap<>();
        Matcher m = PAIR.matcher(line);
        int at = 0;
        while (at < line.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("lsblk -P line " + lineNo + ": cannot read at column "
                        + (at + 1) + ": " + line);
            }
            String key = m.group(1).equals("MAJ_MIN") ? "MAJ:MIN" : m.group(1);
            if (kv.put(key, unescape(m.group(2), lineNo)) != null) {
                throw new IllegalArgumentException("lsblk -P line " + lineNo + ": " + key + " twice: " + line);
            }
            at = m.end();
            while (at < line.length() && line.charAt(at) == ' ') {
                at++;
            }
        }
        return Collections.unmodifiableMap(kv);
    }

    /** {@code \xHH} escapes to bytes, then the whole value decoded as UTF-8. */
    static String unescape(String v, int lineNo) {
        if (v.indexOf('\\') < 0) {
            return v;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '\\') {
                if (i + 3 >= v.length() || v.charAt(i + 1) != 'x'
                        || Character.digit(v.charAt(i + 2), 16) < 0 || Character.digit(v.charAt(i + 3), 16) < 0) {
                    throw new IllegalArgumentException("lsblk -P line " + lineNo + ": a \\ that is not a \\xHH escape in '"
                            + v + "'");
                }
                bytes.write(Integer.parseInt(v.substring(i + 2, i + 4), 16));
                i += 3;
            } else {
                bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("lsblk -P line " + lineNo + ": escapes in '" + v
                    + "' are not UTF-8", e);
        }
    }

    private static final class Node {
        final Map<String, String> kv;
        final int lineNo;
        final List<Node> children = new ArrayList<>();

        Node(Map<String, String> kv, int lineNo) {
            this.kv = kv;
            this.lineNo = lineNo;
            name();
        }

        String name() {
            return get("NAME");
        }

        String get(String key) {
            String v = kv.get(key);
            if (v == null) {
                throw new IllegalArgumentException("lsblk -P line " + lineNo + ": no " + key + " column");
            }
            return v;
        }

        boolean flag(String key) {
            String v = get(key);
            if (v.equals("0")) {
                return false;
            }
            if (v.equals("1")) {
                return true;
            }
            throw new IllegalArgumentException("lsblk -P line " + lineNo + ": " + key + " is not 0 or 1: " + v);
        }

        long size() {
            String v = get("SIZE");
            if (!v.matches("\\d{1,19}")) {
                throw new IllegalArgumentException("lsblk -P line " + lineNo
                        + ": SIZE is not a byte count (was -b given?): " + v);
            }
            return Long.parseLong(v);
        }

        BlockDevice toDevice() {
            List<BlockDevice> kids = new ArrayList<>();
            for (Node c : children) {
                kids.add(c.toDevice());
            }
            String mp = get("MOUNTPOINT");
            return new BlockDevice(name(), get("MAJ:MIN"), flag("RM"), size(), flag("RO"), get("TYPE"),
                    mp.isEmpty() ? Optional.empty() : Optional.of(mp), kids);
        }
    }
}
