package dev.polarscale.replication;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Adds one standby from a JVM of its own, for ConcurrencyIT. Arguments: primary port, primary
 * data directory, node name, node port, node data directory. Passwords come from the
 * environment (POLARSCALE_SUPERUSER_PASSWORD, POLARSCALE_REPLICATION_PASSWORD), never argv.
 * Prints "WINDOW <first step start ms> <last step end ms>" and "RESULT ok" or "RESULT <exception>".
 */
public final class AddStandbyMain {
    private AddStandbyMain() {
    }

    public static void main(String[] args) {
        StepWindow window = new StepWindow();
        ClusterSpec spec = ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Integer.parseInt(args[0]), Path.of(args[1]))
                .superuserPassword(System.getenv("POLARSCALE_SUPERUSER_PASSWORD"))
                .replicationPassword(System.getenv("POLARSCALE_REPLICATION_PASSWORD"))
                .verifyTimeout(Duration.ofSeconds(30)).lockTimeout(Duration.ofSeconds(90))
                .listener(window).build();
        NodeSpec node = NodeSpec.builder().name(args[2]).port(Integer.parseInt(args[3]))
                .dataDirectory(Path.of(args[4])).build();
        String result;
        try (ClusterScaler scaler = ClusterScaler.forCluster(spec)) {
            System.out.println("READY");
            scaler.addStandby(node);
            result = "ok";
        } catch (RuntimeException e) {
            result = e.getClass().getName() + ": " + e.getMessage();
        }
        System.out.println("WINDOW " + window.first() + " " + window.last());
        System.out.println("RESULT " + result);
    }
}
