package dev.polarscale.core.internal.conf;

import dev.polarscale.core.PolarException;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The one piece of text PolarScale owns in a file it did not create ({@code postgresql.conf},
 * {@code pg_hba.conf}): the lines between {@link #BEGIN} and {@link #END}. Writing a block first
 * removes every earlier one, wherever it is, then puts the new one at the top (pg_hba.conf: the
 * first matching line wins) or the bottom (postgresql.conf: the last setting wins). All other
 * lines are kept byte for byte, so writing the same block twice gives the same file.
 *
 * <p>A BEGIN without its END (or the reverse) means someone edited the markers; rather than
 * guess which lines are ours, the merge fails and names the line.
 */
public final class ManagedBlock {
    public static final String BEGIN = "# BEGIN polarscale managed block";
    public static final String END = "# END polarscale managed block";

    public enum Position { TOP, BOTTOM }

    private ManagedBlock() {
    }

    /**
     * {@code existing} with its managed block(s) replaced by one holding {@code body}.
     *
     * @param body     complete lines, each ending in {@code \n} (may be empty)
     * @param fileName used in error messages only
     */
    public static String merge(String existing, String body, Position position, String fileName) {
        Objects.requireNonNull(body, "body");
        if (!body.isEmpty() && !body.endsWith("\n")) {
            throw new IllegalArgumentException("block body must end with a newline");
        }
        String rest = remove(existing, fileName);
        String block = BEGIN + "\n" + body + END + "\n";
        if (position == Position.TOP) {
            return block + rest;
        }
        if (!rest.isEmpty() && !rest.endsWith("\n")) {
            rest += "\n";
        }
        return rest + block;
    }

    /** The lines inside the managed block(s) of {@code content}, stripped, blank ones left out. */
    public static List<String> bodyLines(String content) {
        List<String> out = new ArrayList<>();
        boolean in = false;
        for (String line : content.split("\n", -1)) {
            String m = line.strip();
            if (m.equals(BEGIN)) {
                in = true;
            } else if (m.equals(END)) {
                in = false;
            } else if (in && !m.isEmpty()) {
                out.add(m);
            }
        }
        return out;
    }

    /**
     * {@code existing} with its managed block replaced in place by one holding {@code body}; a
     * file without a block gets it at {@code whereNew}.
     */
    public static String replaceInPlace(String existing, String body, Position whereNew, String fileName) {
        Objects.requireNonNull(body, "body");
        if (!body.isEmpty() && !body.endsWith("\n")) {
            throw new IllegalArgumentException("block body must end with a newline");
        }
        remove(existing, fileName); // fails on broken markers
        List<String> lines = splitKeepingEnds(existing);
        StringBuilder out = new StringBuilder(existing.length() + body.length());
        boolean inBlock = false;
        boolean written = false;
        for (String line : lines) {
            String marker = line.strip();
            if (marker.equals(BEGIN)) {
                inBlock = true;
                if (!written) {
                    out.append(BEGIN).append('\n').append(body).append(END).append('\n');
                    written = true;
                }
            } else if (marker.equals(END)) {
                inBlock = false;
            } else if (!inBlock) {
                out.append(line);
            }
        }
        return written ? out.toString() : merge(existing, body, whereNew, fileName);
    }

    /** {@code existing} without any managed block, all other lines unchanged. */
    public static String remove(String existing, String fileName) {
        Objects.requireNonNull(existing, "existing content");
        List<String> lines = splitKeepingEnds(existing);
        StringBuilder out = new StringBuilder(existing.length());
        int beginLine = -1;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String marker = line.strip();
            if (marker.equals(BEGIN)) {
                if (beginLine >= 0) {
                    throw broken(fileName, "'" + BEGIN + "' at line " + (i + 1)
                            + " inside the block opened at line " + (beginLine + 1));
                }
                beginLine = i;
            } else if (marker.equals(END)) {
                if (beginLine < 0) {
                    throw broken(fileName, "'" + END + "' at line " + (i + 1) + " has no matching '" + BEGIN + "'");
                }
                beginLine = -1;
            } else if (beginLine < 0) {
                out.append(line);
            }
        }
        if (beginLine >= 0) {
            throw broken(fileName, "'" + BEGIN + "' at line " + (beginLine + 1) + " has no matching '" + END + "'");
        }
        return out.toString();
    }

    private static PolarException broken(String fileName, String what) {
        return new PolarException(fileName + ": " + what + "; the managed block was edited by hand, fix the markers");
    }

    private static List<String> splitKeepingEnds(String s) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        while (start < s.length()) {
            int nl = s.indexOf('\n', start);
            int end = nl < 0 ? s.length() : nl + 1;
            lines.add(s.substring(start, end));
            start = end;
        }
        return lines;
    }
}
