package dev.polarscale.examples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No main source file grows past {@value #MAX_LINES} lines (the benchmark, a report generator,
 * aside): a class that size is doing several jobs, as ClusterScaler once did at 909 lines.
 */
class SourceSizeTest {
    static final int MAX_LINES = 450;
    private static final List<String> EXEMPT = List.of("Benchmark.java");

    @Test
    void everyMainSourceFileIsSmallEnough() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent();
        Map<String, Long> tooLong = new TreeMap<>();
        int files = 0;
        for (String module : List.of("polar-core", "polar-storage", "polar-replication", "polar-examples")) {
            Path main = root.resolve(module).resolve("src/main/java");
            assertTrue(Files.isDirectory(main), "run from the polar-examples module: " + main);
            try (Stream<Path> all = Files.walk(main)) {
                for (Path p : all.filter(f -> f.toString().endsWith(".java")).toList()) {
                    files++;
                    long lines;
                    try (Stream<String> l = Files.lines(p)) {
                        lines = l.count();
                    }
                    if (lines > MAX_LINES && !EXEMPT.contains(p.getFileName().toString())) {
                        tooLong.put(root.relativize(p).toString(), lines);
                    }
                }
            }
        }
        assertTrue(files > 50, "found the sources: " + files);
        assertEquals(Map.of(), tooLong, "main source files over " + MAX_LINES + " lines");
    }
}
