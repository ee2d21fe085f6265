package dev.polarscale.core.internal.pg;

import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
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
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Extracts the zonky {@code postgres-linux-x86_64.txz} from the class path into
 * {@code <cache>/pg-<sha256 prefix>/} once. Concurrent JVMs serialise on a file lock; the
 * archive is unpacked into a temporary sibling and renamed into place, so a reader sees either
 * nothing or a complete tree. The tree is world-readable and executable, because a root JVM
 * runs the server as another user.
 */
public final class EmbeddedBinaries {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedBinaries.class);
    private static final String RESOURCE = "postgres-linux-x86_64.txz";

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

    public static synchronized Optional<PgInstallation> extract(Path cacheRoot) {
        ClassLoader cl = EmbeddedBinaries.class.getClassLoader();
        if (cl.getResource(RESOURCE) == null) {
            return Optional.empty();
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
                    unpack(cl, tmp);
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

    private static void unpack(ClassLoader cl, Path into) throws IOException {
        try (InputStream raw = cl.getResourceAsStream(RESOURCE);
             TarArchiveInputStream tar = new TarArchiveInputStream(
                     new XZCompressorInputStream(new BufferedInputStream(raw)))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                Path out = into.resolve(e.getName()).normalize();
                if (!out.startsWith(into)) {
                    throw new IOException("archive entry escapes the target directory: " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(out);
                } else if (e.isSymbolicLink()) {
                    Files.createDirectories(out.getParent());
                    Files.createSymbolicLink(out, Path.of(e.getLinkName()));
                } else {
                    Files.createDirectories(out.getParent());
                    Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                    boolean exec = (e.getMode() & 0100) != 0;
                    Files.setPosixFilePermissions(out, PosixFilePermissions.fromString(exec ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
        }
        try (Stream<Path> dirs = Files.walk(into)) {
            for (Path d : (Iterable<Path>) dirs.filter(Files::isDirectory)::iterator) {
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
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
