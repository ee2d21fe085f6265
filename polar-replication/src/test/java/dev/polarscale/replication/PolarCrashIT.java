package dev.polarscale.replication;

import dev.polarscale.core.Executors;
import dev.polarscale.core.OsUsers;
import dev.polarscale.core.PgBinaries;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.storage.SharedStorage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link CrashIT} for PolarDB shared-storage replicas: the JVM running addReplica halts after
 * each step; a new scaler's retry succeeds, nothing is orphaned, and DDL on the primary still
 * completes (a slot left behind would make it hang). Runs when {@code POLARDB_HOME} is set.
 */
@EnabledIfEnvironmentVariable(named = "POLARDB_HOME", matches = ".+",
        disabledReason = "POLARDB_HOME not set: no PolarDB-PG installation for the replica crash test")
class PolarCrashIT {
    static final List<String> ADD_REPLICA_STEPS = List.of("lock", "recover", "check", "mount storage", "create slot",
            "allow replication", "local directory", "polar-initdb", "config templates", "configure", "start", "verify recovery",
            "verify streaming", "verify canary", "register");

    private static CrashRig rig;

    @BeforeAll
    static void deploy() throws Exception {
        Path bin = Path.of(System.getenv("POLARDB_HOME"), "bin");
        PgInstallation polardb = PgInstallation.at(bin);
        assumeTrue(polardb.isPolarDb(), "POLARDB_HOME has no bin/polar-initdb.sh");
        String osUser = OsUsers.serverUser(Executors.local()).orElseGet(() -> OsUsers.whoami(Executors.local()));
        Path templates = PgBinaries.cacheDirectory().resolve("templates");
        rig = new CrashRig("polarscale-polar-crash-it-", (b, base) -> b.installation(polardb)
                .sharedStorage(SharedStorage.localFileSystem(base.resolve("shared_data"), osUser))
                .templateCache(templates), List.of());
        rig.setChildArgs(List.of("polardb=" + bin, "shared=" + rig.base.resolve("shared_data"), "osUser=" + osUser,
                "templates=" + templates));
    }

    @AfterAll
    static void tearDown() {
        if (rig != null) {
            rig.close();
        }
    }

    static Stream<String> steps() {
        return ADD_REPLICA_STEPS.stream();
    }

    @ParameterizedTest(name = "addReplica halted after {0}, then the same add")
    @MethodSource("steps")
    void aRetryOfTheAddSucceeds(String step) throws Exception {
        NodeSpec node = rig.node("replica_crash_" + ADD_REPLICA_STEPS.indexOf(step));
        rig.crash("addReplica", node, step);
        OperationReport r = rig.scaler.addReplica(node);
        rig.assertHealthy(node.name());
        System.out.printf("addReplica halted after %s; the retry took %d ms%n", step, r.total().toMillis());
        rig.scaler.removeNode(node.name(), RemoveOptions.defaults().withDeleteData(true));
        rig.assertNothingLeft(node);
    }

    @Test
    void afterAllThatDdlOnThePrimaryCompletes() throws Exception {
        NodeSpec node = rig.node("replica_crash_ddl");
        rig.crash("addReplica", node, "verify streaming");
        rig.scaler.removeNode(node.name(), RemoveOptions.defaults().withDeleteData(true));
        rig.assertNothingLeft(node);
        try (Connection c = rig.scaler.primaryNode().connect(); Statement s = c.createStatement()) {
            s.execute("SET statement_timeout = '5s'");
            s.execute("CREATE TABLE crash_ddl_check (id int)");
            s.execute("DROP TABLE crash_ddl_check");
        }
        assertEquals(List.of(), rig.scaler.slots().list(), "no slot left on the primary");
    }
}
