package dev.polarscale.examples.cli;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import java.io.StringReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One mapping of a cluster file, read strictly: SnakeYAML only composes the node tree (no object is
 * constructed from the text, so no tag can instantiate a class), and every value is taken from a
 * node that knows its line. Each section first declares its keys ({@link #allow}), so a typo is
 * named rather than ignored; a missing key, a value of the wrong kind or one a builder refuses is
 * a {@link ClusterFileException} naming the file, the line and the key's path.
 */
final class YamlMap {
    private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern DURATION = Pattern.compile("([0-9]{1,9})(ms|s|m|h)");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String file;
    private final Path base;
    private final String path;
    private final int line;
    private final Map<String, NodeTuple> entries = new LinkedHashMap<>();

    private YamlMap(String file, Path base, String path, MappingNode node) {
        this.file = file;
        this.base = base;
        this.path = path;
        this.line = lineOf(node);
        for (NodeTuple t : node.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode k)) {
                throw new ClusterFileException(file, lineOf(t.getKeyNode()), path, "a key must be a plain name");
            }
            if (entries.put(k.getValue(), t) != null) {
                throw new ClusterFileException(file, lineOf(k), keyPath(k.getValue()), "duplicate key");
            }
        }
    }

    /**
     * The top mapping of a cluster file's text.
     *
     * @param file the file's name for messages
     * @param base the directory relative file names are resolved against (the file's own)
     */
    static YamlMap parse(String text, String file, Path base) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setAllowRecursiveKeys(false);
        options.setMaxAliasesForCollections(20);
        options.setCodePointLimit(1 << 20);
        Node root;
        try {
            root = new Yaml(new SafeConstructor(options)).compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
            throw new ClusterFileException(file, line, "", "not valid YAML: " + e.getProblem());
        } catch (YAMLException e) {
            throw new ClusterFileException(file, 0, "", "not valid YAML: " + e.getMessage());
        }
        if (root == null) {
            throw new ClusterFileException(file, 0, "", "the file is empty (a cluster file names at least its "
                    + "primary, superuser and replication)");
        }
        if (!(root instanceof MappingNode m)) {
            throw new ClusterFileException(file, lineOf(root), "", "expected keys (primary:, hosts:, ...) at the top");
        }
        return new YamlMap(file, base, "", m);
    }

    /** Refuses every key not listed, naming it and the keys that are allowed here. */
    YamlMap allow(String... allowed) {
        Set<String> ok = Set.of(allowed);
        for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
            if (!ok.contains(e.getKey())) {
                throw new ClusterFileException(file, lineOf(e.getValue().getKeyNode()), keyPath(e.getKey()),
                        "unknown key" + (path.isEmpty() ? "" : " in " + path) + " (known: " + String.join(", ", allowed)
                                + ")");
            }
        }
        return this;
    }

    boolean has(String key) {
        return entries.containsKey(key);
    }

    /** The keys, in file order. */
    List<String> keys() {
        return List.copyOf(entries.keySet());
    }

    /** A required text value. */
    String string(String key) {
        return optString(key).orElseThrow(() -> missing(key));
    }

    Optional<String> optString(String key) {
        Node n = node(key);
        if (n == null) {
            return Optional.empty();
        }
        if (!(n instanceof ScalarNode s)) {
            throw error(key, "expected a single value, found " + kind(n));
        }
        if (s.getTag().equals(Tag.NULL)) {
            throw error(key, "has no value");
        }
        return Optional.of(s.getValue());
    }

    /** Whether the key holds a single value (rather than keys or a list). */
    boolean isScalar(String key) {
        return node(key) instanceof ScalarNode;
    }

    int integer(String key, int min, int max) {
        return optInteger(key, min, max).orElseThrow(() -> missing(key));
    }

    Optional<Integer> optInteger(String key, int min, int max) {
        return optString(key).map(v -> {
            try {
                int i = Integer.parseInt(v);
                if (i >= min && i <= max) {
                    return i;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw error(key, "'" + v + "' is not a whole number in " + min + ".." + max);
        });
    }

    /** An absolute path (a path on a cluster host: never resolved against this machine). */
    Path absolutePath(String key) {
        return optAbsolutePath(key).orElseThrow(() -> missing(key));
    }

    Optional<Path> optAbsolutePath(String key) {
        return optString(key).map(v -> {
            if (!v.startsWith("/") || v.indexOf('\0') >= 0) {
                throw error(key, "'" + v + "' is not an absolute path");
            }
            return Path.of(v).normalize();
        });
    }

    /** A file on this machine; a relative name is resolved against the cluster file's directory. */
    Optional<Path> optLocalFile(String key) {
        return optString(key).map(v -> {
            if (v.isEmpty() || v.indexOf('\0') >= 0) {
                throw error(key, "'" + v + "' is not a file name");
            }
            return base.resolve(v).normalize();
        });
    }

    /** {@code 500ms}, {@code 30s}, {@code 2m}, {@code 1h}; positive. */
    Optional<Duration> optDuration(String key) {
        return optString(key).map(v -> duration(v).orElseThrow(() -> error(key, "'" + v
                + "' is not a positive duration such as 500ms, 30s, 2m or 1h")));
    }

    /** {@code 500ms}, {@code 30s}, {@code 2m} or {@code 1h} as a duration; empty for anything else or zero. */
    static Optional<Duration> duration(String v) {
        Matcher m = DURATION.matcher(v.strip().toLowerCase(Locale.ROOT));
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            return Optional.empty();
        }
        long n = Long.parseLong(m.group(1));
        return Optional.of(switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        });
    }

    /** A list of single values ({@code [a, b]} or one {@code - a} per line). */
    List<String> strings(String key) {
        Node n = node(key);
        if (n == null) {
            return List.of();
        }
        if (!(n instanceof SequenceNode seq)) {
            throw error(key, "expected a list, found " + kind(n));
        }
        List<String> out = new ArrayList<>();
        for (Node item : seq.getValue()) {
            if (!(item instanceof ScalarNode s) || s.getTag().equals(Tag.NULL)) {
                throw new ClusterFileException(file, lineOf(item), keyPath(key), "expected a list of single values");
            }
            out.add(s.getValue());
        }
        return out;
    }

    /** A required nested mapping. */
    YamlMap map(String key) {
        return optMap(key).orElseThrow(() -> missing(key));
    }

    Optional<YamlMap> optMap(String key) {
        Node n = node(key);
        if (n == null) {
            return Optional.empty();
        }
        if (!(n instanceof MappingNode m)) {
            throw error(key, "expected keys below it, found " + kind(n));
        }
        return Optional.of(new YamlMap(file, base, keyPath(key), m));
    }

    /**
     * A secret, given by reference only: {@code {env: NAME}} or {@code {file: PATH}} (relative to the
     * cluster file's directory). An inline value is refused, with why.
     */
    String secret(String key, SecretSource source) {
        Node n = node(key);
        if (n == null) {
            throw missing(key);
        }
        if (n instanceof ScalarNode) {
            throw error(key, "an inline secret is refused: a cluster file is copied, shared and committed, and "
                    + "everyone who can read it would have the password; say where it is instead: "
                    + "{env: VARIABLE} or {file: /path/to/file}");
        }
        YamlMap ref = map(key).allow("env", "file");
        if (ref.entries.size() != 1) {
            throw error(key, "give exactly one of {env: VARIABLE} or {file: /path/to/file}");
        }
        String value;
        if (ref.has("env")) {
            String var = ref.string("env");
            if (!ENV_NAME.matcher(var).matches()) {
                throw ref.error("env", "'" + var + "' is not an environment variable name");
            }
            value = source.env(var);
            if (value == null || value.isEmpty()) {
                throw ref.error("env", "environment variable " + var + " is not set");
            }
        } else {
            Path f = ref.optLocalFile("file").orElseThrow();
            value = ref.check("file", () -> source.file(f));
            if (value.isEmpty()) {
                throw ref.error("file", f + " is empty");
            }
        }
        return value;
    }

    /** Runs a builder call; its {@link IllegalArgumentException} or {@link IllegalStateException} names this key. */
    <T> T check(String key, Supplier<T> call) {
        try {
            return call.get();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw error(key, e.getMessage());
        }
    }

    /** An error about a key: the line of its value, or of this mapping when the key is absent. */
    ClusterFileException error(String key, String problem) {
        NodeTuple t = entries.get(key);
        return new ClusterFileException(file, t == null ? line : lineOf(t.getValueNode()), keyPath(key), problem);
    }

    /** An error about this mapping as a whole. */
    ClusterFileException error(String problem) {
        return new ClusterFileException(file, line, path, problem);
    }

    private ClusterFileException missing(String key) {
        return new ClusterFileException(file, line, keyPath(key), "missing" + (path.isEmpty() ? "" : " in " + path));
    }

    private Node node(String key) {
        NodeTuple t = entries.get(key);
        return t == null ? null : t.getValueNode();
    }

    String keyPath(String key) {
        String k = PLAIN_KEY.matcher(key).matches() ? key : '"' + key.replace("\"", "\\\"") + '"';
        return path.isEmpty() ? k : path + "." + k;
    }

    private static String kind(Node n) {
        if (n instanceof MappingNode) {
            return "keys";
        }
        return n instanceof SequenceNode ? "a list" : "a single value";
    }

    private static int lineOf(Node n) {
        return n.getStartMark() == null ? 0 : n.getStartMark().getLine() + 1;
    }
}
