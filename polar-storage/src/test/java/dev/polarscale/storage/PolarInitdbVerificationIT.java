package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.core.PgInstallation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The checks around {@code polar-initdb.sh}, on real directories, with stand-in scripts that
 * do what the real one does, right or (with the tutorial's argument order) wrong. Each script
 * logs its arguments, so a test can prove a precondition stopped it from running at all.
 */
class PolarInitdbVerificationIT {
    private static final String LOG_ARGS = "echo \"$@\" >> \"$(dirname \"$0\")/../log/calls\"\n";

    @TempDir
    Path tmp;
    private CommandExecutor local;
    private Path local1;
    private Path shared;
    private SharedStorage storage;

    @BeforeAll
    static void dbUser() {
        ItSupport.assumeDbUser();
    }

    @BeforeEach
    void dirs() throws Exception {
        ItSupport.traversable(tmp);
        local = Executors.local();
        local1 = ItSupport.dbUserDir(local, tmp.resolve("node"));
        ItSupport.dbUserDir(local, tmp.resolve("log"));
        shared = tmp.resolve("shared_data");
        storage = SharedStorage.localFileSystem(shared, ItSupport.DB_USER);
        storage.prepare(local);
    }

    private PolarInitdb script(String body) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path sh = bin.resolve("polar-initdb.sh");
        Files.writeString(sh, "#!/bin/sh\nset -e\n" + LOG_ARGS + body + "\necho success\n");
        Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(sh, PosixFilePermissions.fromString("rwxr-xr-x"));
        return PolarInitdb.using(new PgInstallation(bin), ItSupport.DB_USER);
    }

    private List<String> calls() throws Exception {
        Path log = tmp.resolve("log/calls");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    private void freshInitdb(Path dir) {
        ItSupport.dbUserFile(local, dir.resolve("PG_VERSION"), "15\n");
        ItSupport.dbUserFile(local, dir.resolve("postgresql.conf"), "");
        local.run(Command.of("mkdir", dir.resolve("global").toString()).asUser(ItSupport.DB_USER));
        ItSupport.dbUserFile(local, dir.resolve("global/pg_control"), "x");
    }

    @Test
    void primaryMovesTheSharedPartAndIsVerified() throws Exception {
        PolarInitdb initdb = script("mv \"$1global\" \"$2global\"");
        freshInitdb(local1);
        initdb.initPrimary(local, local1, storage);
        assertEquals(List.of(local1 + "/ " + shared + "/ primary localfs"), calls());
        assertTrue(Files.isRegularFile(shared.resolve("global/pg_control")));
        assertEquals(ItSupport.DB_USER, Files.getOwner(shared.resolve("global/pg_control")).getName());
    }

    @Test
    void primaryThatExitsZeroWithoutWritingTheSharedDirIsCaught() throws Exception {
        PolarInitdb initdb = script("true");
        freshInitdb(local1);
        StorageException e = assertThrows(StorageException.class, () -> initdb.initPrimary(local, local1, storage));
        assertEquals("localhost - polar-initdb.sh primary for " + local1 + ": polar-initdb.sh exited 0 but the "
                + "shared directory " + shared + "/ holds no global/pg_control", e.getMessage());
    }

    @Test
    void primaryNeedsAFreshInitdbAndAnEmptySharedDirBeforeRunning() throws Exception {
        PolarInitdb initdb = script("exit 99");
        StorageException e = assertThrows(StorageException.class, () -> initdb.initPrimary(local, local1, storage));
        assertEquals("localhost - polar-initdb.sh primary for " + local1 + ": the local directory does not hold a "
                + "fresh initdb (missing PG_VERSION, global/pg_control, postgresql.conf)", e.getMessage());
        freshInitdb(local1);
        ItSupport.dbUserFile(local, shared.resolve("PG_VERSION"), "15\n");
        e = assertThrows(StorageException.class, () -> initdb.initPrimary(local, local1, storage));
        assertEquals("localhost - polar-initdb.sh primary for " + local1 + ": the shared directory " + shared
                + "/ is not empty (PG_VERSION)", e.getMessage());
        assertEquals(List.of(), calls());
    }

    @Test
    void replicaCreatesItsSkeletonLocallyAndIsVerified() throws Exception {
        PolarInitdb initdb = script("echo 15 > \"$1PG_VERSION\"; mkdir \"$1base\" \"$1pg_wal\"");
        ItSupport.dbUserDir(local, shared.resolve("global"));
        initdb.initReplica(local, local1, storage);
        assertEquals(List.of(local1 + "/ " + shared + "/ replica localfs"), calls());
        assertTrue(Files.isRegularFile(local1.resolve("PG_VERSION")));
        assertEquals(List.of("global"), storage.list(local));
    }

    @Test
    void theTutorialsSwappedOrderDamageIsCaughtDespiteExitZero() throws Exception {
        // what polar-initdb.sh 15 does when the shared directory comes first for a replica:
        // it "succeeds" and creates PG_VERSION and directories inside the SHARED directory
        PolarInitdb initdb = script("echo 15 > \"$2PG_VERSION\"; mkdir \"$2base\"");
        ItSupport.dbUserDir(local, shared.resolve("global"));
        StorageException e = assertThrows(StorageException.class, () -> initdb.initReplica(local, local1, storage));
        assertEquals("localhost - polar-initdb.sh replica for " + local1 + ": polar-initdb.sh exited 0 but wrote "
                + "into the shared directory " + shared + "/ (new entries: PG_VERSION, base), as it does when the "
                + "directories are swapped; remove those entries from the shared directory by hand", e.getMessage());
    }

    @Test
    void replicaWithoutPgVersionAfterwardsIsCaught() throws Exception {
        PolarInitdb initdb = script("true");
        StorageException e = assertThrows(StorageException.class, () -> initdb.initReplica(local, local1, storage));
        assertEquals("localhost - polar-initdb.sh replica for " + local1 + ": polar-initdb.sh exited 0 but left no "
                + "PG_VERSION in the local directory", e.getMessage());
    }

    @Test
    void replicaPreconditionsStopItBeforeItRuns() throws Exception {
        PolarInitdb initdb = script("exit 99");
        Path missing = tmp.resolve("nope");
        StorageException e = assertThrows(StorageException.class, () -> initdb.initReplica(local, missing, storage));
        assertEquals("localhost - polar-initdb.sh replica for " + missing + ": the local directory does not exist",
                e.getMessage());
        ItSupport.dbUserFile(local, local1.resolve("postgresql.conf"), "");
        e = assertThrows(StorageException.class, () -> initdb.initReplica(local, local1, storage));
        assertTrue(e.getMessage().contains("the local directory already holds postgresql.conf"), e.getMessage());
        Path local2 = ItSupport.dbUserDir(local, tmp.resolve("node2"));
        SharedStorage absent = SharedStorage.localFileSystem(tmp.resolve("absent"), ItSupport.DB_USER);
        e = assertThrows(StorageException.class, () -> initdb.initReplica(local, local2, absent));
        assertEquals("localhost - polar-initdb.sh replica for " + local2 + ": the shared directory "
                + tmp.resolve("absent") + "/ does not exist (SharedStorage.prepare creates it)", e.getMessage());
        assertEquals(List.of(), calls());
        assertFalse(Files.exists(local2.resolve("PG_VERSION")));
    }

    @Test
    void commandPutsTheLocalDirFirstWithOneTrailingSlashAndRunsAsTheDbUser() throws Exception {
        Command c = script("true").command(local1, storage, "replica");
        assertEquals(List.of(tmp.resolve("bin/polar-initdb.sh").toString(), local1 + "/", shared + "/", "replica",
                "localfs"), c.argv());
        assertEquals(java.util.Optional.of(ItSupport.DB_USER), c.runAs());
        assertThrows(IllegalArgumentException.class, () -> script("true").command(Path.of("rel"), storage, "replica"));
        assertThrows(IllegalArgumentException.class,
                () -> script("true").command(Path.of("/srv/a b"), storage, "replica"));
        assertThrows(IllegalArgumentException.class, () -> script("true").command(local1, storage, "standby"));
        assertThrows(IllegalArgumentException.class,
                () -> PolarInitdb.using(new PgInstallation(tmp), "root"));
    }
}
