package dev.polarscale.replication;

import dev.polarscale.core.PgInstallation;
import dev.polarscale.storage.SharedStorage;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The clone source and rate limit of a standby: validation, and the rate in the plan; nothing runs. */
class CloneOptionsTest {
    private final RecordingExecutor primaryHost = new RecordingExecutor("10.0.0.1");
    private final RecordingExecutor standbyHost = new RecordingExecutor("10.0.0.2");

    private NodeSpec.Builder standby() {
        return NodeSpec.builder().name("standby2").host("10.0.0.2").port(5433)
                .dataDirectory(Path.of("/srv/polar/standby2"));
    }

    @Test
    void maxRateIsPgBasebackupsRange() {
        assertThrows(IllegalArgumentException.class, () -> standby().maxRate(31));
        assertThrows(IllegalArgumentException.class, () -> standby().maxRate(1024 * 1024 + 1));
        assertThrows(IllegalArgumentException.class, () -> standby().maxRate(0));
        assertEquals(OptionalInt.of(32), standby().maxRate(32).build().maxRate());
        assertEquals(OptionalInt.of(1024 * 1024), standby().maxRate(1024 * 1024).build().maxRate());
        assertEquals(OptionalInt.empty(), standby().build().maxRate(), "unlimited by default");
    }

    @Test
    void cloneFromNamesAnotherNode() {
        assertThrows(IllegalArgumentException.class, () -> standby().cloneFrom("Standby1"));
        assertThrows(IllegalArgumentException.class, () -> standby().cloneFrom("x; rm -rf /"));
        assertThrows(NullPointerException.class, () -> standby().cloneFrom(null));
        IllegalArgumentException self = assertThrows(IllegalArgumentException.class,
                () -> standby().cloneFrom("standby2").build());
        assertTrue(self.getMessage().contains("itself"), self.getMessage());
        NodeSpec n = standby().cloneFrom("standby-1").maxRate(2048).build();
        assertEquals(Optional.of("standby-1"), n.cloneFrom());
        assertTrue(n.toString().contains("cloneFrom=standby-1") && n.toString().contains("maxRate=2048kB/s"),
                n.toString());
        assertEquals(Optional.empty(), standby().build().cloneFrom(), "the primary by default");
    }

    @Test
    void theRateLimitReachesThePlannedCommand() {
        ClusterSpec spec = ClusterSpec.builder()
                .primary("primary", "10.0.0.1", 5432, Path.of("/srv/polar/primary"))
                .host("10.0.0.1", primaryHost).host("10.0.0.2", standbyHost)
                .installation(new PgInstallation(Path.of("/opt/pg/bin"))).osUser("postgres").build();
        List<PlannedStep> plan = ClusterScaler.forCluster(spec).planStandby(standby().maxRate(51200).build());
        String backup = String.join("\n", plan.stream().filter(p -> p.name().equals("base backup")).findFirst()
                .orElseThrow().actions());
        assertTrue(backup.contains("/opt/pg/bin/pg_basebackup -D /srv/polar/standby2 -h 10.0.0.1 -p 5432 "
                + "-U polarscale_repl -S standby2 -X stream --checkpoint=fast --no-password --max-rate=51200"), backup);
        String check = String.join("\n", plan.stream().filter(p -> p.name().equals("check")).findFirst()
                .orElseThrow().actions());
        assertFalse(check.contains("clone"), "a copy from the primary checks no clone source: " + check);
        assertTrue(primaryHost.commands.isEmpty() && standbyHost.commands.isEmpty(), "plan runs nothing");
    }

    @Test
    void aReplicaCopiesNothingSoTakesNeither() {
        ClusterSpec polar = ClusterSpec.builder()
                .primary("primary", "10.0.0.1", 5432, Path.of("/home/polar/primary"))
                .host("10.0.0.1", primaryHost).host("10.0.0.2", standbyHost)
                .installation(new PgInstallation(Path.of("/opt/polardb/bin"))).osUser("polar")
                .sharedStorage(SharedStorage.localFileSystem(Path.of("/home/polar/shared_data"), "polar")).build();
        for (NodeSpec n : List.of(standby().cloneFrom("standby1").build(), standby().maxRate(64).build())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ClusterScaler.forCluster(polar).planReplica(n));
            assertTrue(e.getMessage().contains("addStandby"), e.getMessage());
        }
        assertTrue(primaryHost.commands.isEmpty() && standbyHost.commands.isEmpty());
    }
}
