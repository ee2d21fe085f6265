package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.Executors;
import dev.polarscale.core.PgBinaries;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A standby made without pg_basebackup (the embedded binaries have none): the low-level backup
 * API and a same-host copy, on whatever host install this machine has.
 */
class LowLevelBackupIT {

    @Test
    void standbyFromTheEmbeddedBinariesStreams() throws Exception {
        PgInstallation embedded = PgBinaries.embedded().orElseThrow();
        assertFalse(embedded.has("pg_basebackup"));
        Path base = Files.createTempDirectory("polarscale-lowlevel-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        ClusterSpec spec = ClusterSpec.builder().primary("primary", "127.0.0.1", Procs.freePort(), base.resolve("primary"))
                .installation(embedded).build();
        ClusterScaler scaler = ClusterScaler.forCluster(spec);
        PostgresNode primary = scaler.primaryNode();
        try {
            scaler.deployPrimary();
            try (Connection c = primary.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE before_backup AS SELECT generate_series(1, 50000) AS id");
            }
            NodeSpec node = NodeSpec.builder().name("copy1").port(Procs.freePort()).dataDirectory(base.resolve("copy1")).build();
            List<PlannedStep> plan = scaler.planStandby(node);
            assertTrue(plan.toString().contains("pg_backup_start"), plan.toString());
            OperationReport r = scaler.addStandby(node);
            assertTrue(scaler.status().node("copy1").orElseThrow().healthy());
            try (Connection c = scaler.node("copy1").connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM before_backup")) {
                rs.next();
                assertEquals(50000, rs.getLong(1));
            }
            // nothing the copy made is open to group or others, whatever the user's umask
            try (Stream<Path> all = Files.walk(base.resolve("copy1"))) {
                List<String> open = all.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                                || Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                        .filter(p -> !mode(p).endsWith("------"))
                        .map(p -> p + " " + mode(p)).toList();
                assertEquals(List.of(), open, "group/other bits in the copied data directory");
            }
            System.out.println("low-level copy standby added in " + r.total().toMillis() + " ms");
            scaler.removeNode("copy1", RemoveOptions.defaults().withDeleteData(true));
            assertTrue(scaler.slots().get(SlotName.of("copy1")).isEmpty());
        } finally {
            scaler.close();
            primary.stop();
            Executors.local().run(Command.of("rm", "-rf", "--", base.toString()));
        }
    }

    private static String mode(Path p) {
        try {
            return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
        } catch (java.io.IOException vanished) {
            return "---------";  // a file the running server removed while the walk was on it
        }
    }
}
