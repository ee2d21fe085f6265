package dev.polarscale.core;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A directory of PostgreSQL (or PolarDB-PG) server programs: {@code initdb}, {@code pg_ctl},
 * {@code postgres} and, in a full install, {@code pg_basebackup}, {@code psql} and
 * {@code polar-initdb.sh}.
 *
 * <pre>{@code
 * PgInstallation pg = PgInstallation.at(Path.of("/usr/lib/postgresql/15/bin"));
 * Command initdb = Command.of(pg.tool("initdb").toString(), "-D", dir.toString());
 * }</pre>
 *
 * @param binDir absolute path of the {@code bin} directory
 */
public record PgInstallation(Path binDir) {
    public PgInstallation {
        Objects.requireNonNull(binDir, "binDir");
        if (!binDir.isAbsolute()) {
            throw new IllegalArgumentException("PostgreSQL bin directory must be absolute: " + binDir);
        }
        binDir = binDir.normalize();
    }

    /** An installation whose {@code bin} directory must already contain {@code postgres}. */
    public static PgInstallation at(Path binDir) {
        PgInstallation pg = new PgInstallation(binDir.toAbsolutePath());
        if (!pg.has("postgres")) {
            throw new IllegalArgumentException("no executable 'postgres' in " + pg.binDir());
        }
        return pg;
    }

    /** The path of a program in this installation (whether or not it exists). */
    public Path tool(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.contains("/") || name.equals("..") || name.equals(".")) {
            throw new IllegalArgumentException("invalid program name: '" + name + "'");
        }
        return binDir.resolve(name);
    }

    /** Whether the program exists here and is executable. */
    public boolean has(String name) {
        return Files.isExecutable(tool(name));
    }

    /** Whether this is a PolarDB-PG installation ({@code polar-initdb.sh} is present). */
    public boolean isPolarDb() {
        return has("polar-initdb.sh");
    }
}
