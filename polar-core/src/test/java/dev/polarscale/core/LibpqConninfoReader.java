package dev.polarscale.core;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a connection string the way libpq's {@code conninfo_parse} (fe-connect.c) does:
 * {@code keyword = value} pairs separated by whitespace; a value is either quoted with
 * {@code '...'} or runs to the next whitespace, and in both a backslash takes the next character
 * literally.
 */
final class LibpqConninfoReader {
    private LibpqConninfoReader() {
    }

    static Map<String, String> read(String conninfo) {
        Map<String, String> out = new LinkedHashMap<>();
        int i = 0;
        int n = conninfo.length();
        while (true) {
            while (i < n && Character.isWhitespace(conninfo.charAt(i))) {
                i++;
            }
            if (i >= n) {
                return out;
            }
            int start = i;
            while (i < n && !Character.isWhitespace(conninfo.charAt(i)) && conninfo.charAt(i) != '=') {
                i++;
            }
            String key = conninfo.substring(start, i);
            while (i < n && Character.isWhitespace(conninfo.charAt(i))) {
                i++;
            }
            if (i >= n || conninfo.charAt(i) != '=') {
                throw new IllegalArgumentException("missing \"=\" after \"" + key + "\"");
            }
            i++;
            while (i < n && Character.isWhitespace(conninfo.charAt(i))) {
                i++;
            }
            StringBuilder v = new StringBuilder();
            if (i < n && conninfo.charAt(i) == '\'') {
                i++;
                while (true) {
                    if (i >= n) {
                        throw new IllegalArgumentException("unterminated quoted string");
                    }
                    char c = conninfo.charAt(i);
                    if (c == '\\') {
                        i++;
                        if (i < n) {
                            v.append(conninfo.charAt(i++));
                        }
                    } else if (c == '\'') {
                        i++;
                        break;
                    } else {
                        v.append(c);
                        i++;
                    }
                }
            } else {
                while (i < n && !Character.isWhitespace(conninfo.charAt(i))) {
                    char c = conninfo.charAt(i);
                    if (c == '\\') {
                        i++;
                        if (i < n) {
                            v.append(conninfo.charAt(i++));
                        }
                    } else {
                        v.append(c);
                        i++;
                    }
                }
            }
            out.put(key, v.toString());
        }
    }
}
