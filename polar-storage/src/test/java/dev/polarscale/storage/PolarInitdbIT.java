package dev.polarscale.storage;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.core.PgInstallation;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real {@code polar-initdb.sh} of a PolarDB-PG 15 installation in local-file-system mode.
 * Runs only when {@code POLARDB_HOME} names an installation with {@code bin/polar-initdb.sh}.
 */
@EnabledIfEnvironmentVariable(named = "POLARDB_HOME", matches = ".+",
        disabledReason = "POLARDB_HOME not set: point it at a PolarDB-PG 15 installation (with bin/polar-initdb.sh)")
class PolarInitdbIT {
    private static PgInstallation polardb;

    @BeforeAll
    static void installation() {
        String home = System.getenv("POLARDB_HOME");
        Assumptions.assumeTrue(home != null && !home.isBlank(),
                "POLARDB_HOME not set: point it at a PolarDB-PG 15 installation (with bin/polar-initdb.sh) to run this");
        Path bin = Path.of(home, "bin");
        Assumptions.assumeTrue(Files.isExecutable(bin.resolve("polar-initdb.sh")),
                "POLARDB_HOME not set to a PolarDB installation: no executable " + bin.resolve("polar-initdb.sh"));
        ItSupport.assumeDbUser();
        polardb = PgInstallation.at(bin);
    }

    @Test
    void primaryThenReplicaInLocalFileSystemMode(@TempDir Path tmp) throws Exception {
        ItSupport.traversable(tmp);
        try (CommandExecutor local = Executors.local()) {
            Path primary = ItSupport.dbUserDir(local, tmp.resolve("primary"));
            Path replica = ItSupport.dbUserDir(local, tmp.resolve("replica1"));
            SharedStorage storage = SharedStorage.localFileSystem(tmp.resolve("shared_data"), ItSupport.DB_USER);
            storage.prepare(local);
            local.run(Command.of(polardb.tool("initdb").toString(), "-D", primary.toString(), "-U", "postgres",
                    "--no-sync").asUser(ItSupport.DB_USER).withTimeout(Duration.ofMinutes(5))
                    .withWorkingDirectory(tmp));
            PolarInitdb initdb = PolarInitdb.using(polardb, ItSupport.DB_USER);

            initdb.initPrimary(local, primary, storage);
            assertTrue(Files.isRegularFile(tmp.resolve("shared_data/global/pg_control")));
            assertTrue(Files.isRegularFile(primary.resolve("postgresql.conf")));
            List<String> sharedAfterPrimary = storage.list(local);

            initdb.initReplica(local, replica, storage);
            assertTrue(Files.isRegularFile(replica.resolve("PG_VERSION")));
            assertFalse(Files.exists(replica.resolve("postgresql.conf")));
            assertEquals(sharedAfterPrimary, storage.list(local));
        }
    }
}
