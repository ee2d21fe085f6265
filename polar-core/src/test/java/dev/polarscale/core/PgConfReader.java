package dev.polarscale.core;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads postgresql.conf text the way PostgreSQL 15 does (src/backend/utils/misc/guc-file.l):
 * the same token patterns, {@code name [=] value} per line, {@code #} comments, the last
 * occurrence of a name wins, and quoted values decoded by a port of {@code DeescapeQuotedString}.
 * Tests use it to show that what PostgreSQL reads equals what was set.
 */
final class PgConfReader {
    private static final String LETTER = "[A-Za-z_\\x80-\\xff]";
    private static final String LETTER_OR_DIGIT = "[A-Za-z_0-9\\x80-\\xff]";
    private static final String ID = LETTER + LETTER_OR_DIGIT + "*";
    private static final Pattern NAME = Pattern.compile(ID + "(\\." + ID + ")?");
    private static final Pattern STRING = Pattern.compile("'([^'\\\\\\n]|\\\\.|'')*'");
    private static final Pattern UNQUOTED = Pattern.compile(LETTER + "(" + LETTER_OR_DIGIT + "|[-._:/])*");
    private static final Pattern INTEGER = Pattern.compile("[-+]?([0-9]+|0x[0-9a-fA-F]+)[a-zA-Z]*");
    private static final Pattern REAL = Pattern.compile("[-+]?[0-9]*\\.[0-9]*([Ee][-+]?[0-9]+)?");
    private static final Pattern WS = Pattern.compile("[ \\t\\r]*");
    private static final Pattern COMMENT_OR_END = Pattern.compile("[ \\t\\r]*(#.*)?");

    private PgConfReader() {
    }

    /** Name (lower-cased) → value as the server would see it; throws on a line the server rejects. */
    static Map<String, String> read(String content) {
        Map<String, String> out = new LinkedHashMap<>();
        String[] lines = content.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            if (COMMENT_OR_END.matcher(line).matches()) {
                continue;
            }
            int[] pos = {0};
            skip(line, pos);
            String name = token(line, pos, NAME, n);
            skip(line, pos);
            if (pos[0] < line.length() && line.charAt(pos[0]) == '=') {
                pos[0]++;
                skip(line, pos);
            }
            String value;
            if (pos[0] < line.length() && line.charAt(pos[0]) == '\'') {
                value = deescape(token(line, pos, STRING, n));
            } else {
                value = longest(line, pos, n, INTEGER, REAL, UNQUOTED);
            }
            if (!COMMENT_OR_END.matcher(line.substring(pos[0])).matches()) {
                throw new IllegalArgumentException("syntax error at line " + (n + 1) + ": " + line);
            }
            out.remove(name.toLowerCase(Locale.ROOT));
            out.put(name.toLowerCase(Locale.ROOT), value);
        }
        return out;
    }

    private static void skip(String line, int[] pos) {
        Matcher m = WS.matcher(line).region(pos[0], line.length());
        m.lookingAt();
        pos[0] = m.end();
    }

    private static String token(String line, int[] pos, Pattern p, int n) {
        Matcher m = p.matcher(line).region(pos[0], line.length());
        if (!m.lookingAt()) {
            throw new IllegalArgumentException("syntax error at line " + (n + 1) + ": " + line);
        }
        pos[0] = m.end();
        return m.group();
    }

    private static String longest(String line, int[] pos, int n, Pattern... ps) {
        int best = -1;
        for (Pattern p : ps) {
            Matcher m = p.matcher(line).region(pos[0], line.length());
            if (m.lookingAt() && m.end() > best) {
                best = m.end();
            }
        }
        if (best <= pos[0]) {
            throw new IllegalArgumentException("syntax error at line " + (n + 1) + ": " + line);
        }
        String v = line.substring(pos[0], best);
        pos[0] = best;
        return v;
    }

    /** Port of guc-file.l's DeescapeQuotedString. */
    static String deescape(String s) {
        StringBuilder out = new StringBuilder();
        int len = s.length();
        for (int i = 1; i < len - 1; i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                i++;
                char e = s.charAt(i);
                switch (e) {
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                        int k = 0;
                        int oct = 0;
                        while (k < 3 && s.charAt(i + k) >= '0' && s.charAt(i + k) <= '7') {
                            oct = (oct << 3) + (s.charAt(i + k) - '0');
                            k++;
                        }
                        i += k - 1;
                        out.append((char) (oct & 0xff));
                    }
                    default -> out.append(e);
                }
            } else if (c == '\'' && s.charAt(i + 1) == '\'') {
                out.append(s.charAt(++i));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
