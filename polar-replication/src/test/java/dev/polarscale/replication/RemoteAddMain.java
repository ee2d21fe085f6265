package dev.polarscale.replication;

import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.core.SshTarget;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Adds a standby on a remote host from a JVM that has no PostgreSQL of its own, for MultiHostIT:
 * it runs in a mount namespace where this machine's server binaries are hidden, and reaches the
 * primary's host and the standby's host over SSH only. No installation is named: the scaler must
 * find the binaries on each host. Arguments {@code key=value}: primary, primaryDir, host, node,
 * port, dir, key, knownHosts. Passwords come from the environment. Prints {@code LOCAL ...} and
 * {@code RESULT ok} or {@code RESULT <exception>}.
 */
public final class RemoteAddMain {
    private RemoteAddMain() {
    }

    public static void main(String[] args) {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            a.put(arg.substring(0, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        System.out.println("LOCAL /usr/lib/postgresql exists: " + Files.exists(Path.of("/usr/lib/postgresql/15/bin")));
        try (CommandExecutor primaryHost = ssh(a.get("primary"), a);
             CommandExecutor nodeHost = ssh(a.get("host"), a)) {
            ClusterSpec spec = ClusterSpec.builder()
                    .primary("primary", a.get("primary"), 5432, Path.of(a.get("primaryDir")))
                    .host(a.get("primary"), primaryHost).host(a.get("host"), nodeHost)
                    .superuserPassword(System.getenv("POLARSCALE_SUPERUSER_PASSWORD"))
                    .replicationPassword(System.getenv("POLARSCALE_REPLICATION_PASSWORD"))
                    .verifyTimeout(Duration.ofSeconds(30)).build();
            try (ClusterScaler scaler = ClusterScaler.forCluster(spec)) {
                OperationReport r = scaler.addStandby(NodeSpec.builder().name(a.get("node")).host(a.get("host"))
                        .port(Integer.parseInt(a.get("port"))).dataDirectory(Path.of(a.get("dir"))).build());
                System.out.println("BINARIES on " + a.get("host") + ": " + scaler.node(a.get("node")).installation());
                System.out.println("RESULT ok in " + r.total().toMillis() + " ms");
            }
        } catch (RuntimeException e) {
            System.out.println("RESULT " + e);
            e.printStackTrace(System.out);
        }
    }

    private static CommandExecutor ssh(String host, Map<String, String> a) {
        return Executors.ssh(SshTarget.builder().host(host).user("root").privateKeyFile(Path.of(a.get("key")))
                .knownHostsFile(Path.of(a.get("knownHosts"))).connectTimeout(Duration.ofSeconds(5)).build());
    }
}
