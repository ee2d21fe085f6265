package dev.polarscale.replication;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where a LocalCluster puts its data by default, and that it runs without fsync unless asked. */
class LocalClusterDefaultsIT {

    @Test
    void defaultsToMemoryWhereItQualifiesAndNoFsyncOnAnyNode() throws Exception {
        Path base;
        try (LocalCluster c = LocalCluster.builder().standbys(1).build().start()) {
            base = c.baseDirectory();
            if (shmQualifies()) {
                assertTrue(base.startsWith("/dev/shm"), "a tmpfs with room: " + base);
            } else {
                assertTrue(base.startsWith(Path.of(System.getProperty("java.io.tmpdir"))), base.toString());
            }
            assertEquals("off", setting(c, LocalCluster.PRIMARY, "fsync"));
            assertEquals("off", setting(c, "standby1", "fsync"), "the standby copies the primary's setting");
        }
        assertFalse(Files.exists(base));
    }

    @Test
    void onDiskWithFsyncWhenAsked() throws Exception {
        try (LocalCluster c = LocalCluster.builder().tmpfs(false).fsync(true).build().start()) {
            assertTrue(c.baseDirectory().startsWith(Path.of(System.getProperty("java.io.tmpdir"))),
                    c.baseDirectory().toString());
            assertEquals("on", setting(c, LocalCluster.PRIMARY, "fsync"));
        }
    }

    private static boolean shmQualifies() throws IOException {
        Path shm = Path.of("/dev/shm");
        if (!Files.isDirectory(shm)) {
            return false;
        }
        FileStore s = Files.getFileStore(shm);
        return "tmpfs".equals(s.type()) && s.getUsableSpace() >= (4L << 30) && Files.isWritable(shm);
    }

    private static String setting(LocalCluster c, String node, String name) throws SQLException {
        try (Connection conn = c.dataSource(node).getConnection(); Statement s = conn.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('" + name + "')")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
