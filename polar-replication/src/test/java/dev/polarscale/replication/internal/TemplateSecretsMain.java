package dev.polarscale.replication.internal;

import dev.polarscale.core.PostgresNode;
import dev.polarscale.replication.ClusterScaler;
import dev.polarscale.replication.ClusterSpec;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A deploy from an initdb template (made on the way, then used), its plan, and a failing
 * deploy, in a JVM of its own for {@link InitdbTemplateIT}, which then searches the log, the
 * output and the server logs for the password and any SCRAM verifier. Args: base directory, two
 * free ports, template cache; the password comes in POLARSCALE_SUPERUSER_PASSWORD.
 */
public final class TemplateSecretsMain {
    private TemplateSecretsMain() {
    }

    public static void main(String[] args) throws Exception {
        Path base = Path.of(args[0]);
        ClusterSpec spec = ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Integer.parseInt(args[1]), base.resolve("primary"))
                .superuserPassword(System.getenv("POLARSCALE_SUPERUSER_PASSWORD"))
                .templateCache(Path.of(args[3])).verifyTimeout(Duration.ofSeconds(30)).build();
        try (ClusterScaler scaler = ClusterScaler.forCluster(spec)) {
            PostgresNode primary = scaler.primaryNode();
            try {
                System.out.println(spec);
                scaler.planDeployPrimary().forEach(System.out::println);
                System.out.println(scaler.deployPrimary());
                // a second deploy onto the same directory fails before the copy
                try (ClusterScaler again = ClusterScaler.forCluster(spec.toBuilder().primary("primary", "127.0.0.1",
                        Integer.parseInt(args[2]), base.resolve("primary")).build())) {
                    again.deployPrimary();
                } catch (RuntimeException e) {
                    e.printStackTrace(System.out);
                }
                System.out.println("DONE");
            } finally {
                primary.stop();
            }
        }
    }
}
