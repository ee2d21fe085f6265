package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandFailedException;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException.Reason;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which identity {@link PolarInitdb} runs the script as, and the fix-up after a privileged run. */
class PolarInitdbTest {
    private static final Path LOCAL = Path.of("/srv/polar/primary");
    private static final PolarInitdb INITDB = PolarInitdb.using(new PgInstallation(Path.of("/opt/polardb/bin")), "postgres");
    private static final SharedStorage PFS = SharedStorage.pfs(Pfs.builder().clusterName("disk").build(),
            PfsPath.of("/nvme1n1/shared_data"), 0);
    private static final SharedStorage LOCALFS = SharedStorage.localFileSystem(Path.of("/srv/polar/shared_data"), "postgres");
    private static final List<String> SCRIPT = List.of("/opt/polardb/bin/polar-initdb.sh", "/srv/polar/primary/",
            "/nvme1n1/shared_data/", "primary", "disk");

    private final RecordingExecutor ex = new RecordingExecutor("node1");

    /** A fresh initdb in LOCAL, an empty shared directory on PFS, the fixed pfs path present. */
    private void freshPrimary() {
        ex.on("test").exit(0);
        ex.on("test", "-e", LOCAL + "/postmaster.pid").exit(1);
        ex.on("pfs", "-C", "disk", "stat").exit(0);
        ex.on("pfs", "-C", "disk", "ls").stdout("total 0 (unit: 512Bytes)\n");
        ex.on("/opt/polardb/bin/polar-initdb.sh").stdout("init PolarDB data dir success\n");
        ex.on("chown").exit(0);
        ex.on("stat").stdout("postgres:700\n");
        ex.on("find").stdout("");
    }

    private Command only(List<String> argv) {
        List<Command> found = ex.commands().stream().filter(c -> c.argv().equals(argv)).toList();
        assertEquals(1, found.size(), () -> argv + " ran " + found.size() + " times: " + ex.argvs());
        return found.get(0);
    }

    @Test
    void thePrimaryInPfsModeRunsPrivilegedAndGivesTheLocalDirectoryBack() {
        freshPrimary();
        INITDB.initPrimary(ex, LOCAL, PFS);
        Command script = only(SCRIPT);
        assertTrue(script.isPrivileged());
        assertTrue(only(List.of("chown", "-R", "-h", "--from=root", "postgres:", "/srv/polar/primary")).isPrivileged());
        only(List.of("stat", "-c", "%U:%a", "/srv/polar/primary"));
        only(List.of("find", "/srv/polar/primary", "-user", "root", "-print", "-quit"));
        only(List.of("test", "-f", "/usr/local/bin/pfs"));
        List<List<String>> argvs = ex.argvs();
        assertTrue(argvs.indexOf(SCRIPT) < argvs.indexOf(List.of("chown", "-R", "-h", "--from=root", "postgres:",
                "/srv/polar/primary")));
        assertEquals(List.of("pfs", "-C", "disk", "stat", "/nvme1n1/shared_data/global/pg_control"),
                argvs.get(argvs.size() - 1));
        assertTrue(INITDB.command(LOCAL, PFS, "primary").isPrivileged());
    }

    @Test
    void everythingElseRunsAsTheDatabaseUser() {
        for (Command c : List.of(INITDB.command(LOCAL, PFS, "replica"), INITDB.command(LOCAL, LOCALFS, "primary"),
                INITDB.command(LOCAL, LOCALFS, "replica"))) {
            assertFalse(c.isPrivileged(), c::toString);
            assertEquals("postgres", c.runAs().orElseThrow());
        }
    }

    @Test
    void aLocalDirectoryLeftWrongAfterTheRunIsPermissionDenied() {
        freshPrimary();
        ex.on("find").stdout("/srv/polar/primary/global/polar_settings.conf\n");
        StorageException e = assertThrows(StorageException.class, () -> INITDB.initPrimary(ex, LOCAL, PFS));
        assertEquals(Reason.PERMISSION_DENIED, e.reason());
        assertEquals("node1 - polar-initdb.sh primary for /srv/polar/primary ran as root: the local directory should "
                + "be postgres's with mode 700 and hold no root-owned file, but it is postgres:700 (owner:mode) and "
                + "/srv/polar/primary/global/polar_settings.conf belongs to root", e.getMessage());
        ex.on("find").stdout("");
        ex.on("stat").stdout("root:755\n");
        e = assertThrows(StorageException.class, () -> INITDB.initPrimary(ex, LOCAL, PFS));
        assertTrue(e.getMessage().endsWith("but it is root:755 (owner:mode)"), e.getMessage());
    }

    @Test
    void theFixUpRunsAfterAFailedScriptTooAndTheScriptsFailureIsWhatIsThrown() {
        freshPrimary();
        ex.on("/opt/polardb/bin/polar-initdb.sh").reply(1, "cp failed: Input/output error\n"
                + "copy /srv/polar/primary//base to /nvme1n1/shared_data// fail\n", "");
        CommandFailedException e = assertThrows(CommandFailedException.class, () -> INITDB.initPrimary(ex, LOCAL, PFS));
        assertTrue(e.getMessage().contains("cp failed: Input/output error"), e.getMessage());
        only(List.of("chown", "-R", "-h", "--from=root", "postgres:", "/srv/polar/primary"));
    }

    @Test
    void withoutThePfsPathTheScriptUsesNothingRuns() {
        freshPrimary();
        ex.on("test", "-f", "/usr/local/bin/pfs").exit(1);
        StorageException e = assertThrows(StorageException.class, () -> INITDB.initPrimary(ex, LOCAL, PFS));
        assertEquals(Reason.BINARIES_MISSING, e.reason());
        assertTrue(e.getMessage().contains("in PFS mode the script runs /usr/local/bin/pfs (a path written into it), "
                + "which does not exist on this host"), e.getMessage());
        assertTrue(ex.argvs().stream().noneMatch(a -> a.get(0).endsWith("polar-initdb.sh") || a.get(0).equals("chown")));
        RecordingExecutor replica = new RecordingExecutor("node2");
        replica.on("test").exit(0);
        replica.on("test", "-e").exit(1);
        replica.on("test", "-f", "/usr/local/bin/pfs").exit(1);
        assertEquals(Reason.BINARIES_MISSING, assertThrows(StorageException.class,
                () -> INITDB.initReplica(replica, Path.of("/srv/polar/replica1"), PFS)).reason());
    }

    @Test
    void localFileSystemModeNeedsNoPfsPathAndNoFixUp() {
        ex.on("test").exit(0);
        ex.on("test", "-e", LOCAL + "/postmaster.pid").exit(1);
        ex.on("ls").stdout("");
        ex.on("/opt/polardb/bin/polar-initdb.sh").exit(0);
        INITDB.initPrimary(ex, LOCAL, LOCALFS);
        assertTrue(ex.argvs().stream().noneMatch(a -> a.contains("/usr/local/bin/pfs") || a.get(0).equals("chown")
                || a.get(0).equals("find")), ex.argvs()::toString);
        assertEquals("postgres", only(List.of("/opt/polardb/bin/polar-initdb.sh", "/srv/polar/primary/",
                "/srv/polar/shared_data/", "primary", "localfs")).runAs().orElseThrow());
    }
}
