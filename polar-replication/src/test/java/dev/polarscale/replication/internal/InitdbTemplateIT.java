package dev.polarscale.replication.internal;

import dev.polarscale.core.Command;
import dev.polarscale.core.Executors;
import dev.polarscale.core.OsUsers;
import dev.polarscale.core.PgBinaries;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.replication.LocalCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fixtures started from one initdb template are independent clusters: each is a copy of the
 * template (its files keep the template's timestamps), yet has its own system identifier, mock
 * authentication nonce and superuser password, and what one writes the other never sees. A
 * template that cannot be used gives way to a real initdb.
 */
class InitdbTemplateIT {
    private Path dir;
    private Path cache;

    @BeforeEach
    void cacheDirectory() throws IOException {
        dir = Files.createTempDirectory("polarscale-template-it-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        cache = dir.resolve("templates"); // made by the fixture, for the server user
    }

    @AfterEach
    void deleteCache() {
        Executors.local().execute(Command.of("rm", "-rf", "--", dir.toString()).withTimeout(Duration.ofMinutes(1)));
    }

    @Test
    void twoFixturesFromOneTemplateAreIndependentClusters() throws Exception {
        try (LocalCluster a = LocalCluster.builder().templateCache(cache).build().start();
             LocalCluster b = LocalCluster.builder().templateCache(cache).standbys(1).build().start()) {
            Path template = onlyTemplate();
            byte[] templateControl = Files.readAllBytes(template.resolve("global/pg_control"));
            Path aDir = a.primary().dataDirectory();
            Path bDir = b.primary().dataDirectory();
            for (Path d : List.of(aDir, bDir)) {
                assertEquals(mtime(template.resolve("base/1/PG_VERSION")), mtime(d.resolve("base/1/PG_VERSION")),
                        d + " is a copy of the template, not a fresh initdb");
            }

            long aId = systemIdentifier(a, LocalCluster.PRIMARY);
            long bId = systemIdentifier(b, LocalCluster.PRIMARY);
            long templateId = ControlFile.systemIdentifier(templateControl);
            assertNotEquals(aId, bId, "system identifiers");
            assertNotEquals(templateId, aId);
            assertNotEquals(templateId, bId);
            assertEquals(aId, ControlFile.systemIdentifier(Files.readAllBytes(aDir.resolve("global/pg_control"))));
            assertEquals(bId, systemIdentifier(b, "standby1"), "b's standby is b's copy and streams from it");
            byte[] aNonce = ControlFile.nonce(Files.readAllBytes(aDir.resolve("global/pg_control")));
            byte[] bNonce = ControlFile.nonce(Files.readAllBytes(bDir.resolve("global/pg_control")));
            assertFalse(java.util.Arrays.equals(aNonce, bNonce), "mock authentication nonces");
            assertFalse(java.util.Arrays.equals(aNonce, ControlFile.nonce(templateControl)));
            assertArrayEquals(templateControl, Files.readAllBytes(template.resolve("global/pg_control")),
                    "the template itself is never changed");

            exec(a, "CREATE TABLE only_in_a AS SELECT generate_series(1, 10) AS id");
            assertEquals("absent", query(b, "SELECT coalesce(to_regclass('only_in_a')::text, 'absent')"));
            exec(b, "CREATE TABLE only_in_a AS SELECT 42 AS id");
            assertEquals("10", query(a, "SELECT count(*) FROM only_in_a"), "b's table of the same name is b's");
            assertEquals("1", query(b, "SELECT count(*) FROM only_in_a"));

            assertNotEquals(a.password(), b.password());
            SQLException refused = assertThrows(SQLException.class,
                    () -> DriverManager.getConnection(b.jdbcUrl(), a.username(), a.password()).close());
            assertEquals("28P01", refused.getSQLState(), "a's password does not open b: " + refused.getMessage());
        }
    }

    @Test
    void anUnusableTemplateGivesWayToARealInitdb() throws Exception {
        PgInstallation pg = PgBinaries.locate();
        String version = Executors.local().run(Command.of(pg.tool("postgres").toString(), "--version")
                .withTimeout(Duration.ofSeconds(30))).stdout().strip();
        Path bad = cache.resolve(InitdbTemplate.key(version, pg.binDir(), "postgres"));
        Files.createDirectories(bad.resolve("global"));
        Files.writeString(bad.resolve("PG_VERSION"), "15\n");
        Files.write(bad.resolve("global/pg_control"), new byte[ControlFile.SIZE]); // no valid CRC anywhere
        String user = OsUsers.serverUser(Executors.local()).orElse(System.getProperty("user.name"));
        Executors.local().run(Command.of("chown", "-R", user, cache.toString()).withTimeout(Duration.ofSeconds(30)));
        try (LocalCluster c = LocalCluster.builder().templateCache(cache).build().start()) {
            assertNotEquals(0L, systemIdentifier(c, LocalCluster.PRIMARY), "a real cluster, from initdb");
            assertNotEquals(mtime(bad.resolve("PG_VERSION")), mtime(c.primary().dataDirectory().resolve("PG_VERSION")));
            exec(c, "CREATE TABLE works AS SELECT 1 AS id");
        }
    }

    @Test
    @EnabledIfEnvironmentVariable(named = "POLARDB_HOME", matches = ".+",
            disabledReason = "POLARDB_HOME not set: no PolarDB-PG installation for the PolarDB template")
    void polarDbPrimariesFromOneTemplateAreIndependentToo() throws Exception {
        PgInstallation polardb = PgInstallation.at(Path.of(System.getenv("POLARDB_HOME"), "bin"));
        try (LocalCluster a = LocalCluster.builder().polarDb(polardb).templateCache(cache).build().start();
             LocalCluster b = LocalCluster.builder().polarDb(polardb).templateCache(cache).standbys(1).build()
                     .start()) {
            Path template = onlyTemplate();
            assertEquals(mtime(template.resolve("PG_VERSION")), mtime(a.primary().dataDirectory().resolve("PG_VERSION")),
                    "the local directory is a copy of the template");
            long aId = systemIdentifier(a, LocalCluster.PRIMARY);
            assertNotEquals(aId, systemIdentifier(b, LocalCluster.PRIMARY));
            assertNotEquals(ControlFile.systemIdentifier(Files.readAllBytes(template.resolve("global/pg_control"))), aId);
            assertEquals(systemIdentifier(b, LocalCluster.PRIMARY), systemIdentifier(b, "replica1"));
            assertTrue(query(a, "SELECT version()").contains("PolarDB"));
            exec(a, "CREATE TABLE only_in_a AS SELECT 1 AS id");
            assertEquals("absent", query(b, "SELECT coalesce(to_regclass('only_in_a')::text, 'absent')"));
        }
    }

    @Test
    void neitherThePasswordNorItsVerifierIsLoggedOrPrinted() throws Exception {
        Path run = dir.resolve("secrets");
        Files.createDirectories(run);
        Path log = dir.resolve("slf4j.log");
        Path out = dir.resolve("stdout.txt");
        String password = "T3mpl-" + Long.toHexString(System.nanoTime()) + "-secret";
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "-Dorg.slf4j.simpleLogger.log.dev.polarscale=debug",
                "-Dorg.slf4j.simpleLogger.logFile=" + log, "-cp", System.getProperty("java.class.path"),
                TemplateSecretsMain.class.getName(), run.toString(), Integer.toString(freePort()),
                Integer.toString(freePort()), cache.toString())
                .redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("POLARSCALE_SUPERUSER_PASSWORD", password);
        Process child = pb.start();
        assertTrue(child.waitFor(4, java.util.concurrent.TimeUnit.MINUTES), "run finished");
        String stdout = Files.readString(out);
        String logged = Files.readString(log);
        assertTrue(stdout.contains("DONE"), stdout);
        assertTrue(logged.contains("initdb from template"), "the template was used: " + logged);
        assertTrue(logged.contains("postgres --single"), "the single-user run is logged at DEBUG");
        List<Path> files = new java.util.ArrayList<>(List.of(log, out));
        try (Stream<Path> all = Files.walk(run)) {
            all.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().endsWith(".log")).forEach(files::add);
        }
        for (Path f : files) {
            String text = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertFalse(text.contains(password), f + " holds the password");
            assertFalse(text.contains("SCRAM-SHA-256$4096:"), f + " holds a SCRAM verifier");
        }
        Executors.local().execute(Command.of("rm", "-rf", "--", run.toString()).withTimeout(Duration.ofMinutes(1)));
    }

    private static int freePort() {
        return dev.polarscale.core.FreePorts.pick("127.0.0.1");
    }

    private Path onlyTemplate() throws IOException {
        try (Stream<Path> s = Files.list(cache)) {
            List<Path> templates = s.filter(p -> p.getFileName().toString().startsWith("pgdata-")
                    && Files.isDirectory(p)).toList();
            assertEquals(1, templates.size(), "one template for one binaries version and settings: " + templates);
            return templates.get(0);
        }
    }

    private static FileTime mtime(Path p) throws IOException {
        return Files.getLastModifiedTime(p);
    }

    private static long systemIdentifier(LocalCluster c, String node) throws SQLException {
        return Long.parseUnsignedLong(query(c, node, "SELECT system_identifier FROM pg_control_system()"));
    }

    private static void exec(LocalCluster c, String sql) throws SQLException {
        try (Connection conn = c.dataSource().getConnection(); Statement s = conn.createStatement()) {
            s.execute(sql);
        }
    }

    private static String query(LocalCluster c, String sql) throws SQLException {
        return query(c, LocalCluster.PRIMARY, sql);
    }

    private static String query(LocalCluster c, String node, String sql) throws SQLException {
        try (Connection conn = c.dataSource(node).getConnection(); Statement s = conn.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
