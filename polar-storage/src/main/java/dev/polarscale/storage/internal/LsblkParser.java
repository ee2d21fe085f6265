package dev.polarscale.storage.internal;

import dev.polarscale.storage.BlockDevice;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the output of {@code lsblk -b} with the columns {@code NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT}
 * in two forms:
 * <ul>
 *   <li>{@code -J} (util-linux 2.27 and later): since about 2.33 flags are JSON booleans and
 *       sizes numbers; older releases print every value as a string ({@code "rm": "0"},
 *       {@code "size": "107374182400"}). Both are accepted; nesting comes from {@code children}.</li>
 *   <li>{@code -P} ({@code KEY="value"} pairs, one device per line, for releases without
 *       {@code -J}) with an extra {@code PKNAME} column: a line is a child of the latest earlier
 *       line whose {@code NAME} is its {@code PKNAME}. lsblk escapes unsafe bytes as {@code \xHH}.</li>
 * </ul>
 * A missing column or a malformed value is an {@link IllegalArgumentException}: wrong facts about
 * a disk are worse than none.
 */
public final class LsblkParser {
    /** The columns both forms request, in order. */
    public static final String COLUMNS = "NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT";

    private static final Pattern PAIR = Pattern.compile("([A-Z][A-Z0-9_:%-]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private LsblkParser() {
    }

    /** The top-level devices of {@code lsblk -J -b -o NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT}. */
    public static List<BlockDevice> parseJson(String json) {
        Object root = Json.parse(json);
        if (!(root instanceof Map<?, ?> map) || !(map.get("blockdevices") instanceof List<?> list)) {
            throw new IllegalArgumentException("lsblk JSON has no \"blockdevices\" array");
        }
        List<BlockDevice> out = new ArrayList<>();
        for (Object o : list) {
            out.add(device(o));
        }
        return List.copyOf(out);
    }

    private static BlockDevice device(Object o) {
        if (!(o instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("lsblk JSON: a device is not an object: " + o);
        }
        String name = string(m, "name", false);
        List<BlockDevice> children = new ArrayList<>();
        Object kids = m.get("children");
        if (kids != null) {
            if (!(kids instanceof List<?> kl)) {
                throw new IllegalArgumentException("lsblk JSON: \"children\" of " + name + " is not an array");
            }
            for (Object k : kl) {
                children.add(device(k));
            }
        }
        return new BlockDevice(name, string(m, "maj:min", false), flag(m, "rm", name), size(m, name),
                flag(m, "ro", name), string(m, "type", false),
                Optional.ofNullable(string(m, "mountpoint", true)), children);
    }

    private static String string(Map<?, ?> m, String key, boolean nullable) {
        if (!m.containsKey(key)) {
            throw new IllegalArgumentException("lsblk JSON: device without \"" + key + "\": " + m);
        }
        Object v = m.get(key);
        if (v == null && nullable) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException("lsblk JSON: \"" + key + "\" is not a string: " + v);
        }
        return s;
    }

    private static boolean flag(Map<?, ?> m, String key, String device) {
        if (!m.containsKey(key)) {
            throw new IllegalArgumentException("lsblk JSON: device " + device + " without \"" + key + "\"");
        }
        Object v = m.get(key);
        if (v instanceof Boolean b) {
            return b;
        }
        if ("0".equals(v) || (v instanceof BigDecimal d && d.signum() == 0)) {
            return false;
        }
        if ("1".equals(v) || (v instanceof BigDecimal d && d.compareTo(BigDecimal.ONE) == 0)) {
            return true;
        }
        throw new IllegalArgumentException("lsblk JSON: \"" + key + "\" of " + device + " is not a flag: " + v);
    }

    private static long size(Map<?, ?> m, String device) {
        if (!m.containsKey("size")) {
            throw new IllegalArgumentException("lsblk JSON: device " + device + " without \"size\"");
        }
        Object v = m.get("size");
        try {
            if (v instanceof BigDecimal d) {
                return d.longValueExact();
            }
            if (v instanceof String s && s.matches("\\d{1,19}")) {
                return Long.parseLong(s);
            }
        } catch (ArithmeticException | NumberFormatException e) {
            // falls through to the error below
        }
        throw new IllegalArgumentException("lsblk JSON: \"size\" of " + device
                + " is not a byte count (was -b given?): " + v);
    }

    /** The top-level devices of {@code lsblk -b -P -o NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT,PKNAME}. */
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
            kv.put(m.group(1).replace('_', ':').equals("MAJ:MIN") ? "MAJ:MIN" : m.group(1), unescape(m.group(2)));
            at = m.end();
            while (at < line.length() && line.charAt(at) == ' ') {
                at++;
            }
        }
        return Collections.unmodifiableMap(kv);
    }

    private static String unescape(String v) {
        if (v.indexOf('\\') < 0) {
            return v;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '\\' && i + 3 < v.length() && v.charAt(i + 1) == 'x'
                    && Character.digit(v.charAt(i + 2), 16) >= 0 && Character.digit(v.charAt(i + 3), 16) >= 0) {
                sb.append((char) Integer.parseInt(v.substring(i + 2, i + 4), 16));
                i += 3;
            } else if (c == '\\' && i + 1 < v.length()) {
                sb.append(v.charAt(++i));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
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
