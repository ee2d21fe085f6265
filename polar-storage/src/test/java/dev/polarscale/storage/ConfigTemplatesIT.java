package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;
import dev.polarscale.core.PgBinaries;
import dev.polarscale.core.PgInstallation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Config templates from the real {@code initdb} of this machine (a PostgreSQL install, or the
 * embedded binaries on a machine without one), run as the database OS user.
 */
class ConfigTemplatesIT {
    private static final Path PG15 = PgBinaries.locate().binDir();

    /** Counts the initdb runs that pass through to the real executor. */
    private static final class CountingExecutor implements CommandExecutor {
        final CommandExecutor real = Executors.local();
        final AtomicInteger initdbRuns = new AtomicInteger();

        @Override
        public String host() {
            return real.host();
        }

        @Override
        public CommandResult execute(Command command) {
            if (command.program().endsWith("/initdb")) {
                initdbRuns.incrementAndGet();
            }
            return real.execute(command);
        }
    }

    @Test
    void buildsTheTemplateOnceAndCopiesTheConfigFiles(@TempDir Path tmp) throws Exception {
        ItSupport.traversable(tmp);
        CountingExecutor ex = new CountingExecutor();
        PgInstallation pg = PgInstallation.at(PG15);
        Path cache = tmp.resolve("cache");

        ConfigTemplates first = ConfigTemplates.forHost(ex, pg, cache, ItSupport.DB_USER);
        assertTrue(first.versionKey().matches("pg15\\.\\d+-[0-9a-f]{12}"), first.versionKey());
        Path template = first.templateDir();
        assertEquals(cache.resolve(first.versionKey()), template);
        assertEquals(1, ex.initdbRuns.get());
        try (Stream<Path> files = Files.list(template)) {
            assertEquals(List.of("pg_hba.conf", "pg_ident.conf", "postgresql.conf"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        try (Stream<Path> files = Files.list(cache)) {
            assertEquals(List.of(template), files.toList(), "temporary directories left behind");
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cache)));

        Path replica1 = ItSupport.dbUserDir(ex.real, tmp.resolve("replica1"));
        Path replica2 = ItSupport.dbUserDir(ex.real, tmp.resolve("replica2"));
        long start = System.nanoTime();
        ConfigTemplates second = ConfigTemplates.forHost(ex, pg, cache, ItSupport.DB_USER);
        second.copyConfigFilesTo(replica1);
        second.copyConfigFilesTo(replica2);
        long reuseMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(1, ex.initdbRuns.get(), "the second instance ran initdb again");
        for (Path r : List.of(replica1, replica2)) {
            for (String f : List.of("postgresql.conf", "pg_hba.conf", "pg_ident.conf")) {
                assertEquals(Files.readString(template.resolve(f)), Files.readString(r.resolve(f)), r + "/" + f);
                assertEquals(ItSupport.DB_USER, Files.getOwner(r.resolve(f)).getName());
            }
        }
        assertTrue(Files.readString(replica1.resolve("postgresql.conf")).contains("max_connections"));
        org.slf4j.LoggerFactory.getLogger(ConfigTemplatesIT.class)
                .info("localhost - two replicas got config files from the cached template in {} ms", reuseMillis);
    }

    @Test
    void aCopyIntoAMissingDirectoryIsAStorageException(@TempDir Path tmp) throws Exception {
        ItSupport.traversable(tmp);
        try (CommandExecutor local = Executors.local()) {
            ConfigTemplates t = ConfigTemplates.forHost(local, PgInstallation.at(PG15), tmp.resolve("cache"),
                    ItSupport.DB_USER);
            StorageException e = org.junit.jupiter.api.Assertions.assertThrows(StorageException.class,
                    () -> t.copyConfigFilesTo(tmp.resolve("nope")));
            assertEquals("localhost - cannot copy config files: " + tmp.resolve("nope") + " is not a directory",
                    e.getMessage());
        }
    }
}
