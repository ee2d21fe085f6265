package dev.polarscale.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The zonky fallback: extracted once, usable by the server user, runs a real server. */
class EmbeddedBinariesIT {
    private Path base;
    private PostgresNode node;

    @AfterEach
    void tearDown() {
        if (node != null) {
            node.stop(PostgresNode.StopMode.IMMEDIATE);
        }
        TestDirs.delete(base);
    }

    @Test
    void extractsOnceAndRunsAServer() throws Exception {
        ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        List<Future<PgInstallation>> all = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            all.add(pool.submit(() -> PgBinaries.embedded().orElseThrow()));
        }
        PgInstallation pg = all.get(0).get();
        for (Future<PgInstallation> f : all) {
            assertEquals(pg, f.get(), "every caller sees the same extracted tree");
        }
        pool.shutdown();
        assertTrue(pg.has("initdb") && pg.has("pg_ctl") && pg.has("postgres"));
        assertFalse(pg.has("pg_basebackup"), "the embedded artifact has no pg_basebackup");
        try (var s = Files.list(pg.binDir().getParent().getParent())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith("pg-extract-")
                    && Files.isDirectory(p) && isRecent(p)), "no half-extracted tree left behind");
        }

        base = TestDirs.traversableTempDir("embedded");
        node = PostgresNode.builder().name("embedded").installation(pg).dataDirectory(base.resolve("data"))
                .port(TestDirs.freePort()).build();
        node.initdb();
        String version = node.start();
        assertTrue(version.startsWith("PostgreSQL 15."), version);
    }

    private static boolean isRecent(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis() > System.currentTimeMillis() - 60_000;
        } catch (IOException e) {
            return false;
        }
    }
}
