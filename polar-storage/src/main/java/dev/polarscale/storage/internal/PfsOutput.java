package dev.polarscale.storage.internal;

import dev.polarscale.core.PolarException.Reason;
import dev.polarscale.storage.DeviceName;
import dev.polarscale.storage.PfsInfo;
import dev.polarscale.storage.StorageException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads what the {@code pfs} tool prints: {@code ls} listings and {@code info} allocation counts. */
public final class PfsOutput {
    private static final Pattern INFO_SECTION = Pattern.compile("^(\\w+) Info:$");
    private static final Pattern INFO_NODE = Pattern.compile(
            "^\\s*\\(0\\)allocnode: id \\d+, shift \\d+, nchild=(\\d+), nall (\\d+), nfree (\\d+), next -?\\d+$");

    private PfsOutput() {
    }

    /** Entry names from {@code pfs ls} output: the last field of each entry line; {@code total ...} skipped. */
    public static List<String> parseLs(String stdout) {
        List<String> names = new ArrayList<>();
        for (String raw : stdout.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("total ")) {
                continue;
            }
            // type, links, size, weekday, month, day, time, year, name (the name may hold spaces)
            String[] f = line.split("\\s+", 9);
            if (f.length < 9 || !(f[0].equals("File") || f[0].equals("Dir"))) {
                throw new StorageException(Reason.OTHER, null, "unexpected line in pfs ls output: '" + raw + "'");
            }
            names.add(f[8]);
        }
        return List.copyOf(names);
    }

    /**
     * {@code pfs info} at its default depth: for each of {@code Blktag}, {@code Direntry} and
     * {@code Inode} a line {@code Xxx Info:} and the root allocation node
     * {@code (0)allocnode: id 0, shift 0, nchild=<chunks>, nall <all>, nfree <free>, next 0}.
     */
    public static PfsInfo parseInfo(DeviceName device, String stdout) {
        Map<String, long[]> nodes = new LinkedHashMap<>();
        String section = null;
        for (String raw : stdout.split("\n")) {
            String line = raw.stripTrailing();
            Matcher s = INFO_SECTION.matcher(line);
            Matcher n = INFO_NODE.matcher(line);
            if (s.matches()) {
                section = s.group(1);
            } else if (n.matches() && section != null && !nodes.containsKey(section)) {
                nodes.put(section, new long[] {Long.parseLong(n.group(1)), Long.parseLong(n.group(2)),
                        Long.parseLong(n.group(3))});
            }
        }
        long[] bt = nodes.get("Blktag");
        long[] de = nodes.get("Direntry");
        long[] in = nodes.get("Inode");
        if (bt == null || de == null || in == null) {
            throw new IllegalArgumentException("expected Blktag, Direntry and Inode sections with a (0)allocnode "
                    + "line, got: " + stdout.strip().replace('\n', '|'));
        }
        if (bt[0] != de[0] || bt[0] != in[0] || bt[0] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("the sections disagree on the chunk count (nchild): " + bt[0] + ", "
                    + de[0] + ", " + in[0]);
        }
        return new PfsInfo(device, (int) bt[0], bt[1], bt[2], de[1], de[2], in[1], in[2]);
    }
}
