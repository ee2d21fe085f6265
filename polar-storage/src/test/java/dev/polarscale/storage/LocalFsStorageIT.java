package dev.polarscale.storage;

import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Local-file-system mode on real directories of this machine. */
class LocalFsStorageIT {

    @BeforeAll
    static void dbUser() {
        ItSupport.assumeDbUser();
    }

    @Test
    void prepareCreatesAPrivateDirectoryOwnedByTheDbUserAndIsIdempotent(@TempDir Path tmp) throws Exception {
        ItSupport.traversable(tmp);
        Path dir = tmp.resolve("polar").resolve("shared_data");
        SharedStorage s = SharedStorage.localFileSystem(dir, ItSupport.DB_USER);
        try (CommandExecutor local = Executors.local()) {
            assertFalse(s.exists(local));
            s.prepare(local);
            assertPrivate(dir);
            ItSupport.dbUserFile(local, dir.resolve("keep"), "x");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            s.prepare(local);
            assertPrivate(dir);
            assertTrue(s.exists(local));
            assertEquals(List.of("keep"), s.list(local));
            assertTrue(s.containsFile(local, "keep"));
            assertFalse(s.containsFile(local, "global/pg_control"));
        }
        assertEquals("file-dio://" + dir + "/", s.settings().get("polar_datadir"));
    }

    @Test
    void listingAMissingDirectoryIsAStorageException(@TempDir Path tmp) {
        SharedStorage s = SharedStorage.localFileSystem(tmp.resolve("missing"), ItSupport.DB_USER);
        try (CommandExecutor local = Executors.local()) {
            StorageException e = assertThrows(StorageException.class, () -> s.list(local));
            assertTrue(e.getMessage().startsWith("localhost - cannot list " + tmp.resolve("missing")), e.getMessage());
        }
    }

    private static void assertPrivate(Path dir) throws Exception {
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertEquals(ItSupport.DB_USER, Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName());
    }
}
