package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.core.PgInstallation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real {@code polar-initdb.sh} of PolarDB-PG 15 in PFS mode, on a freshly formatted sparse
 * 30 GiB loop device with its pfsd: the primary's run (privileged: {@code pfs cp} opens the device)
 * after a real {@code initdb}, then a replica's (as the database user).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(PolarInitdbPfsIT.Required.class)
class PolarInitdbPfsIT {
    private static final Logger LOG = LoggerFactory.getLogger(PolarInitdbPfsIT.class);

    @TempDir
    static Path tmp;
    private static LoopDevice disk;
    private static CommandExecutor local;
    private static AutoCloseable hostCleanUp;
    private static PgInstallation polardb;
    private static PfsClient client;
    private static SharedStorage storage;
    private static PfsInfo formatted;
    private static List<String> sharedAfterPrimary;

    @BeforeAll
    static void formattedDeviceWithPfsd() throws IOException {
        Path pfsdBin = PfsTools.bin();
        Path bin = Path.of(System.getenv("POLARDB_HOME"), "bin");
        polardb = PgInstallation.at(bin);
        local = Executors.local();
        PfsTools.HostDirs hostDirs = PfsTools.HostDirs.before();
        ItSupport.traversable(tmp);
        // polar-initdb.sh 15 runs pfs from this fixed path (pfs=/usr/local/bin/pfs in the script)
        Path scriptPfs = PolarInitdb.SCRIPT_PFS;
        boolean link = !Files.exists(scriptPfs, LinkOption.NOFOLLOW_LINKS);
        hostCleanUp = PfsTools.atExit("polar-initdb-pfs-it-cleanup", () -> {
            try (CommandExecutor l = Executors.local()) {
                if (link) {
                    l.execute(Command.of("rm", "-f", "--", scriptPfs.toString()));
                }
                hostDirs.restore(l);
            }
        });
        if (link) {
            Files.createDirectories(scriptPfs.getParent());
            Files.createSymbolicLink(scriptPfs, pfsdBin.resolve("pfs"));
        }
        disk = LoopDevice.create(tmp, "polar", "30G", false, false);
        Pfs pfs = PfsTools.pfs(pfsdBin);
        client = pfs.on(local);
        client.mkfs(disk.name(), MkfsMode.REFUSE_IF_FORMATTED);
        formatted = client.requireRoomForPrimary(disk.name());
        storage = SharedStorage.pfs(pfs, PfsPath.root(disk.name()).resolve("shared_data"), 0);
        storage.prepare(local);
    }

    /** The PFS tools, polar-initdb.sh and an OS user to run it as; else disabled with the reason. */
    static final class Required implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            Optional<String> missing = PfsTools.missing();
            if (missing.isEmpty() && !Files.isExecutable(Path.of(System.getenv("POLARDB_HOME"), "bin", "polar-initdb.sh"))) {
                missing = Optional.of("POLARDB_HOME has no executable bin/polar-initdb.sh");
            }
            if (missing.isEmpty()) {
                missing = ItSupport.missingDbUser();
            }
            return missing.map(ConditionEvaluationResult::disabled)
                    .orElseGet(() -> ConditionEvaluationResult.enabled("PolarDB-PG 15 with PFS is here"));
        }
    }

    @AfterAll
    static void cleanUp() throws Exception {
        try {
            if (disk != null) {
                disk.close(); // first: host directories are removed only when no pfsd runs
            }
        } finally {
            try {
                if (hostCleanUp != null) {
                    hostCleanUp.close();
                }
            } finally {
                if (local != null) {
                    local.close();
                }
            }
        }
    }

    @Test
    @Order(1)
    void primaryRunsPrivilegedAndItsLocalDirectoryIsTheDatabaseUsersAfterwards() throws IOException {
        Path primary = ItSupport.dbUserDir(local, tmp.resolve("primary"));
        local.run(Command.of(polardb.tool("initdb").toString(), "-D", primary.toString(), "-U", "postgres",
                "--no-sync").asUser(ItSupport.DB_USER).withTimeout(Duration.ofMinutes(5)).withWorkingDirectory(tmp));
        PolarInitdb initdb = PolarInitdb.using(polardb, ItSupport.DB_USER);
        assertTrue(initdb.command(primary, storage, "primary").isPrivileged());

        initdb.initPrimary(local, primary, storage); // checks global/pg_control on PFS itself

        sharedAfterPrimary = storage.list(local);
        assertTrue(sharedAfterPrimary.containsAll(List.of("base", "global", "pg_wal", "pg_xact", "pg_logindex")),
                sharedAfterPrimary.toString());
        assertEquals(ItSupport.DB_USER, Files.getOwner(primary).getName());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(primary)));
        try (Stream<Path> all = Files.walk(primary)) {
            List<String> notTheUsers = all.filter(p -> !owner(p).equals(ItSupport.DB_USER)).map(Path::toString).toList();
            assertEquals(List.of(), notTheUsers);
        }
        assertTrue(Files.isRegularFile(primary.resolve("postgresql.conf")));
        assertFalse(Files.exists(primary.resolve("pg_wal")), "pg_wal moved to PFS");
        PfsInfo after = client.info(disk.name());
        long blocks = formatted.freeBlocks() - after.freeBlocks();
        long files = formatted.freeFiles() - after.freeFiles();
        LOG.info("the primary's initdb took {} blocks and {} files on PFS", blocks, files);
        assertTrue(blocks > 256 && blocks <= PfsClient.PRIMARY_INITDB_BLOCKS, "blocks used: " + blocks);
        assertTrue(files > 1000 && files <= PfsClient.PRIMARY_INITDB_FILES, "files used: " + files);
    }

    @Test
    @Order(2)
    void replicaRunsAsTheDatabaseUserAndMirrorsTheDatabases() throws IOException {
        Assumptions.assumeTrue(sharedAfterPrimary != null, "the primary's run failed");
        Path replica = ItSupport.dbUserDir(local, tmp.resolve("replica1"));
        PolarInitdb initdb = PolarInitdb.using(polardb, ItSupport.DB_USER);
        Command c = initdb.command(replica, storage, "replica");
        assertFalse(c.isPrivileged());
        assertEquals(ItSupport.DB_USER, c.runAs().orElseThrow());

        initdb.initReplica(local, replica, storage); // checks: shared directory unchanged, PG_VERSION here

        assertEquals(sharedAfterPrimary, storage.list(local));
        assertEquals("15", Files.readString(replica.resolve("PG_VERSION")).strip());
        assertFalse(Files.exists(replica.resolve("postgresql.conf")));
        List<String> databases = client.ls(PfsPath.root(disk.name()).resolve("shared_data").resolve("base"));
        try (Stream<Path> local = Files.list(replica.resolve("base"))) {
            assertEquals(databases.stream().sorted().toList(),
                    local.map(p -> p.getFileName().toString()).sorted().toList());
        }
        try (Stream<Path> all = Files.walk(replica)) {
            assertEquals(List.of(), all.filter(p -> !owner(p).equals(ItSupport.DB_USER)).map(Path::toString).toList());
        }
    }

    private static String owner(Path p) {
        try {
            return Files.getOwner(p, LinkOption.NOFOLLOW_LINKS).getName();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
