package dev.polarscale.replication;

import dev.polarscale.core.PgInstallation;
import dev.polarscale.storage.Pfs;
import dev.polarscale.storage.PfsPath;
import dev.polarscale.storage.SharedStorage;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs one operation in a JVM of its own and halts that JVM ({@code Runtime.halt}: no shutdown
 * hook, no finally, no rollback, like the OOM killer) right after the named step, for CrashIT.
 * Arguments are {@code key=value}: {@code op} (addStandby, addReplica, removeNode), {@code haltAfter},
 * {@code primaryPort}, {@code primaryDir}, {@code node}, {@code nodePort}, {@code nodeDir}; for
 * PolarDB also {@code polardb} (bin directory), {@code shared} (shared directory), {@code osUser}
 * and {@code templates}; on PFS {@code pfsDir}, {@code pfsCluster} and {@code pfsBin} instead of
 * {@code shared}. Passwords come from the environment. Exits {@value #HALTED} when halted.
 */
public final class CrashingOperationMain {
    static final int HALTED = 86;

    private CrashingOperationMain() {
    }

    public static void main(String[] args) {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        String haltAfter = a.get("haltAfter");
        ClusterSpec.Builder spec = ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Integer.parseInt(a.get("primaryPort")), Path.of(a.get("primaryDir")))
                .superuserPassword(System.getenv("POLARSCALE_SUPERUSER_PASSWORD"))
                .replicationPassword(System.getenv("POLARSCALE_REPLICATION_PASSWORD"))
                .verifyTimeout(Duration.ofSeconds(30))
                .listener(new ScaleListener() {
                    @Override
                    public void stepFinished(String operation, String step, Duration took) {
                        if (step.equals(haltAfter)) {
                            System.out.println("HALT after " + step);
                            System.out.flush();
                            Runtime.getRuntime().halt(HALTED);
                        }
                    }
                });
        if (a.containsKey("polardb")) {
            spec.installation(PgInstallation.at(Path.of(a.get("polardb"))))
                    .sharedStorage(a.containsKey("pfsDir")
                            ? SharedStorage.pfs(Pfs.builder().clusterName(a.get("pfsCluster"))
                                    .pfsCommand(Path.of(a.get("pfsBin"), "pfs").toString())
                                    .pfsdBinDir(Path.of(a.get("pfsBin"))).workers(1).build(), PfsPath.of(a.get("pfsDir")), 0)
                            : SharedStorage.localFileSystem(Path.of(a.get("shared")), a.get("osUser")))
                    .templateCache(Path.of(a.get("templates")));
        }
        String name = a.get("node");
        try (ClusterScaler scaler = ClusterScaler.forCluster(spec.build())) {
            switch (a.get("op")) {
                case "removeNode" -> scaler.removeNode(name, RemoveOptions.defaults().withDeleteData(true));
                case "addStandby", "addReplica" -> {
                    NodeSpec node = NodeSpec.builder().name(name).port(Integer.parseInt(a.get("nodePort")))
                            .dataDirectory(Path.of(a.get("nodeDir"))).build();
                    if (a.get("op").equals("addStandby")) {
                        scaler.addStandby(node);
                    } else {
                        scaler.addReplica(node);
                    }
                }
                default -> throw new IllegalArgumentException("op " + a.get("op"));
            }
            System.out.println("RESULT ok (no step named " + haltAfter + ")");
        } catch (RuntimeException e) {
            System.out.println("RESULT " + e);
            System.exit(1);
        }
    }
}
