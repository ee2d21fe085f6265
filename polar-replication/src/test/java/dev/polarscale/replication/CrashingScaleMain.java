package dev.polarscale.replication;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs one {@code scaleTo} in a JVM of its own and halts it ({@code Runtime.halt}: no finally, no
 * rollback, no shutdown hook) right after the {@code haltAfter}-th step of the whole reconcile,
 * counted over all its operations, for ScaleCrashIT. Arguments are {@code key=value}:
 * {@code primaryPort}, {@code primaryDir}, {@code count}, {@code prefix}, {@code firstPort},
 * {@code lastPort}, {@code base}, {@code haltAfter}. Passwords come from the environment. Prints
 * whether Micrometer is on its class path (ScaleCrashIT runs it without). Exits {@value #HALTED}
 * when halted.
 */
public final class CrashingScaleMain {
    static final int HALTED = 87;

    private CrashingScaleMain() {
    }

    public static void main(String[] args) {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        try {
            Class.forName("io.micrometer.core.instrument.MeterRegistry");
            System.out.println("MICROMETER present");
        } catch (ClassNotFoundException e) {
            System.out.println("MICROMETER absent");
        }
        int haltAfter = Integer.parseInt(a.get("haltAfter"));
        AtomicInteger steps = new AtomicInteger();
        ClusterSpec spec = ClusterSpec.builder()
                .primary("primary", "127.0.0.1", Integer.parseInt(a.get("primaryPort")), Path.of(a.get("primaryDir")))
                .superuserPassword(System.getenv("POLARSCALE_SUPERUSER_PASSWORD"))
                .replicationPassword(System.getenv("POLARSCALE_REPLICATION_PASSWORD"))
                .verifyTimeout(Duration.ofSeconds(30))
                .listener(new ScaleListener() {
                    @Override
                    public void stepFinished(String operation, String step, Duration took) {
                        if (steps.incrementAndGet() == haltAfter) {
                            System.out.println("HALT after step " + haltAfter + ": " + operation + " / " + step);
                            System.out.flush();
                            Runtime.getRuntime().halt(HALTED);
                        }
                    }
                }).build();
        NamingPolicy policy = NamingPolicy.builder().prefix(a.get("prefix"))
                .ports(Integer.parseInt(a.get("firstPort")), Integer.parseInt(a.get("lastPort")))
                .dataDirectories(Path.of(a.get("base"))).build();
        try (ClusterScaler scaler = ClusterScaler.forCluster(spec)) {
            ScaleReport r = scaler.scaleTo(ScaleTarget.count(Integer.parseInt(a.get("count")), policy));
            System.out.println("RESULT ok after " + steps.get() + " steps: " + r.plan().summary());
        } catch (RuntimeException e) {
            System.out.println("RESULT " + e);
            System.exit(1);
        }
    }
}
