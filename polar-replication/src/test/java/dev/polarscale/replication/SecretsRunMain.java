package dev.polarscale.replication;

import dev.polarscale.core.PostgresNode;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A full deploy, plan, add, failed add and remove in a JVM of its own, for SecurityIT, which
 * reads everything this JVM logs (slf4j-simple at DEBUG for dev.polarscale, to a file) and
 * prints. Arguments: base directory, primary port, standby port. Passwords come from the
 * environment, never argv.
 */
public final class SecretsRunMain {
    private SecretsRunMain() {
    }

    public static void main(String[] args) throws Exception {
        Path base = Path.of(args[0]);
        ClusterSpec spec = ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Integer.parseInt(args[1]), base.resolve("primary"))
                .superuserPassword(System.getenv("POLARSCALE_SUPERUSER_PASSWORD"))
                .replicationPassword(System.getenv("POLARSCALE_REPLICATION_PASSWORD"))
                .verifyTimeout(Duration.ofSeconds(30)).build();
        ClusterScaler scaler = ClusterScaler.forCluster(spec);
        PostgresNode primary = scaler.primaryNode();
        try {
            System.out.println(spec);
            scaler.deployPrimary();
            NodeSpec node = NodeSpec.builder().name("sec1").port(Integer.parseInt(args[2]))
                    .dataDirectory(base.resolve("sec1")).build();
            scaler.planStandby(node).forEach(System.out::println);
            // a failure with its whole chain of causes, as an application would log it
            try (ClusterScaler failing = ClusterScaler.forCluster(spec.toBuilder().listener(new ScaleListener() {
                @Override
                public void stepStarted(String operation, String step) {
                    if (step.equals("verify canary")) {
                        throw new IllegalStateException("injected failure at " + step);
                    }
                }
            }).build())) {
                failing.addStandby(node);
            } catch (RuntimeException e) {
                e.printStackTrace(System.out);
            }
            // a failing command: pg_basebackup into a directory that exists and is not empty
            System.out.println(scaler.addStandby(node));
            System.out.print(scaler.status().toTable());
            System.out.println(scaler.node("sec1"));
            System.out.println(scaler.removeNode("sec1", RemoveOptions.defaults().withDeleteData(true)));
            System.out.println("DONE");
        } finally {
            scaler.close();
            primary.stop();
        }
    }
}
