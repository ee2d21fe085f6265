package dev.polarscale.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

/** Test helpers: a temp dir the server user can traverse, free ports, cleanup. */
final class TestDirs {
    private TestDirs() {
    }

    /** A fresh temp dir with mode 0711 so that a server user other than the JVM's can reach children. */
    static Path traversableTempDir(String prefix) throws IOException {
        Path dir = Files.createTempDirectory("polarscale-" + prefix + "-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        return dir;
    }

    static int freePort() {
        return dev.polarscale.core.FreePorts.pick("127.0.0.1");
    }

    /**
     * {@code pgrep -u postgres -f <dataDirectory>}: exit 1 means no process of the server user
     * names the directory on its command line (the postmaster does, with {@code -D}).
     */
    static CommandResult serverProcesses(Path dataDirectory) {
        return Executors.local().execute(Command.of("pgrep", "-a", "-u", "postgres", "-f", dataDirectory.toString())
                .withTimeout(Duration.ofSeconds(30)));
    }

    /** Fails the test if a server process of this data directory is still running. */
    static void assertNoServerProcesses(Path dataDirectory) {
        CommandResult left = serverProcesses(dataDirectory);
        org.junit.jupiter.api.Assertions.assertEquals(1, left.exitCode(),
                "server processes left behind:\n" + left.stdout());
    }

    /** A test class's cleanup: stop the node, delete its data, check nothing runs, delete the base. */
    static void stopAndDelete(PostgresNode node, Path base) {
        try {
            if (node != null) {
                node.stop(PostgresNode.StopMode.IMMEDIATE);
                node.deleteDataDirectory();
                assertNoServerProcesses(node.dataDirectory());
            }
        } finally {
            delete(base);
        }
    }

    static void delete(Path dir) {
        if (dir != null) {
            Executors.local().run(Command.of("rm", "-rf", "--", dir.toString()).withTimeout(Duration.ofMinutes(1)));
        }
    }
}
