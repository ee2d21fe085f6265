package dev.polarscale.examples.cli;

import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.core.OsUsers;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.Secrets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code init DIR}: a cluster file for a cluster on this machine, to try the command line: the
 * primary on 127.0.0.1 with its data in {@code DIR/primary}, generated passwords in owner-only
 * files beside it. Writes files only; {@code deploy} then makes the cluster.
 */
@Command(name = "init", description = "Write DIR/cluster.yaml for a cluster on this machine (127.0.0.1, data "
        + "under DIR) and generated password files beside it, to try polarscale. DIR must be absent or empty.")
final class InitCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The directory for the file and the data.")
    Path dir;

    @Option(names = "--port", paramLabel = "PORT", description = "The primary's port (default: 55432).")
    int port = 55432;

    @Option(names = "--installation", paramLabel = "BIN",
            description = "Server programs to use (default: found on this machine); a PolarDB-PG bin directory "
                    + "makes a PolarDB cluster on shared storage in local-file-system mode (DIR/shared_data).")
    Path installation;

    @Override
    public Integer call() throws IOException {
        Path d = dir.toAbsolutePath().normalize();
        if (d.toString().chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("DIR must not contain control characters");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("--port must be 1..65535: " + port);
        }
        PgInstallation pg = installation == null ? null : PgInstallation.at(installation);
        if (Files.exists(d)) {
            try (Stream<Path> entries = Files.list(d)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException(d + " is not empty: init writes into a new or empty directory");
                }
            }
        }
        Files.createDirectories(d);
        // the server OS user (postgres, when this runs as root) must pass through it, not list it
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx--x--x"));
        secretFile(d.resolve("superuser.password"));
        secretFile(d.resolve("replication.password"));
        Path file = d.resolve("cluster.yaml");
        Files.writeString(file, yaml(d, pg), StandardCharsets.UTF_8);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("wrote %s (and superuser.password, replication.password, mode 0600)%n", file);
        out.printf("next: polarscale -f %s deploy%n", file);
        return ExitCodes.OK;
    }

    private String yaml(Path d, PgInstallation pg) {
        StringBuilder y = new StringBuilder();
        y.append("# A cluster on this machine, written by polarscale init. Every key: polarscale --help, README.\n");
        y.append("primary:\n  name: primary\n  host: 127.0.0.1\n  port: ").append(port).append('\n');
        y.append("  dataDirectory: ").append(quoted(d.resolve("primary"))).append('\n');
        y.append("hosts:\n  127.0.0.1: local\n");
        if (pg != null) {
            y.append("installation: ").append(quoted(pg.binDir())).append('\n');
            if (pg.isPolarDb()) {
                String osUser;
                try (CommandExecutor local = Executors.local()) {
                    osUser = OsUsers.serverUser(local).orElseGet(() -> OsUsers.whoami(local));
                }
                y.append("storage:\n  localfs:\n    directory: ").append(quoted(d.resolve("shared_data")))
                        .append("\n    osUser: ").append(osUser).append('\n');
            }
        }
        y.append("superuser:\n  password: {file: superuser.password}\n");
        y.append("replication:\n  password: {file: replication.password}\n");
        y.append("timeouts:\n  verify: 60s\n");
        return y.toString();
    }

    private static void secretFile(Path p) throws IOException {
        Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(p, Secrets.randomPassword() + "\n", StandardCharsets.UTF_8);
    }

    /** A YAML double-quoted string. */
    private static String quoted(Path p) {
        return '"' + p.toString().replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
