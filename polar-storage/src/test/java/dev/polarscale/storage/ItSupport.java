package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.core.OsUsers;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Helpers for ITs that run commands as the database OS user: the one the library itself would
 * choose ({@code postgres}, or a created {@code polarscale} user, when the JVM is root; the
 * JVM's own user otherwise), so the ITs run on a fresh machine too instead of skipping.
 */
final class ItSupport {
    static final String DB_USER = resolveDbUser();

    private static String resolveDbUser() {
        try (CommandExecutor local = Executors.local()) {
            return OsUsers.serverUser(local).orElseGet(() -> OsUsers.whoami(local));
        }
    }

    private ItSupport() {
    }

    /** Skips the test unless the OS user exists and this JVM can switch to it (root: runuser). */
    static void assumeDbUser() {
        try (CommandExecutor local = Executors.local()) {
            Assumptions.assumeTrue(local.execute(Command.of("id", "-u", DB_USER)).succeeded(),
                    "OS user '" + DB_USER + "' does not exist on this machine");
            Assumptions.assumeTrue(local.execute(Command.of("true").asUser(DB_USER)).succeeded(),
                    "cannot run commands as '" + DB_USER + "' (not root and no passwordless sudo)");
        }
    }

    /** Makes a JUnit {@code @TempDir} (0700, root's) traversable by the database user: 0711. */
    static Path traversable(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        return dir;
    }

    /** Why commands cannot run as the database user here, or empty when they can. */
    static java.util.Optional<String> missingDbUser() {
        try (CommandExecutor local = Executors.local()) {
            if (!local.execute(Command.of("id", "-u", DB_USER)).succeeded()) {
                return java.util.Optional.of("OS user '" + DB_USER + "' does not exist on this machine");
            }
            if (!local.execute(Command.of("true").asUser(DB_USER)).succeeded()) {
                return java.util.Optional.of("cannot run commands as '" + DB_USER + "' (not root and no passwordless sudo)");
            }
            return java.util.Optional.empty();
        }
    }

    /** Creates a directory owned by the database user, as a test's starting state. */
    static Path dbUserDir(CommandExecutor local, Path dir) {
        local.run(Command.of("install", "-d", "-m", "0700", "-o", DB_USER, dir.toString()));
        return dir;
    }

    static void dbUserFile(CommandExecutor local, Path file, String content) {
        local.run(Command.of("sh", "-c", "cat > \"$1\"", "sh", file.toString()).withStdin(content).asUser(DB_USER));
    }
}
