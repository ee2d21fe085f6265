package dev.polarscale.replication;

import dev.polarscale.core.PgInstallation;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A deploy with a template cache: the same steps, the template's commands shown, nothing run. */
class TemplatePlanTest {
    private final RecordingExecutor host = new RecordingExecutor("10.0.0.1");

    @Test
    void deployPlanShowsTheTemplateAndTheFallback() {
        ClusterSpec spec = ClusterSpec.builder()
                .primary("primary", "10.0.0.1", 5432, Path.of("/srv/polar/primary"))
                .host("10.0.0.1", host).installation(new PgInstallation(Path.of("/opt/pg/bin"))).osUser("polar")
                .superuserPassword("Super-Secret-456").templateCache(Path.of("/var/cache/polarscale/templates"))
                .build();
        List<PlannedStep> plan = ClusterScaler.forCluster(spec).planDeployPrimary();
        assertEquals(List.of("check", "initdb", "configure", "start", "replication role", "registry", "verify"),
                plan.stream().map(PlannedStep::name).toList());
        List<String> initdb = plan.get(1).actions();
        String all = String.join("\n", initdb);
        assertTrue(initdb.get(0).startsWith("template /var/cache/polarscale/templates/pgdata-"), all);
        assertTrue(all.contains("cp -a /var/cache/polarscale/templates/pgdata-<version>-<hash of binaries, superuser, "
                + "options>/. /srv/polar/primary"), all);
        assertTrue(all.contains("new system identifier and mock authentication nonce"), all);
        assertTrue(all.contains("[polar] /opt/pg/bin/postgres --single -D /srv/polar/primary"), all);
        assertTrue(all.contains("ALTER USER \"postgres\" PASSWORD 'SCRAM-SHA-256$<verifier computed here>'"), all);
        assertTrue(all.contains("CREATE TABLE IF NOT EXISTS polarscale.operations; CREATE TABLE IF NOT EXISTS "
                + "polarscale.events; CREATE INDEX IF NOT EXISTS events_at ON polarscale.events; SELECT system_identifier"),
                all);
        assertTrue(initdb.get(initdb.size() - 1).contains("[polar] /opt/pg/bin/initdb -D /srv/polar/primary -U "
                + "postgres"), "the fallback: " + all);
        assertFalse(plan.toString().contains("Super-Secret-456"), "no password in the plan");
        assertTrue(host.commands.isEmpty(), "plan runs nothing");
    }
}
