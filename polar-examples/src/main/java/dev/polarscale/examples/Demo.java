package dev.polarscale.examples;

import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException;
import dev.polarscale.replication.LocalCluster;
import dev.polarscale.replication.OperationReport;
import dev.polarscale.replication.ScaleListener;
import dev.polarscale.storage.DeviceName;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;

/**
 * The README's main command: a cluster on this machine, scaled out and in with the real
 * {@code ClusterScaler}, every step printed as it finishes, every figure measured.
 *
 * <ol>
 *   <li>deploy a primary;</li>
 *   <li>scale out to two streaming standbys;</li>
 *   <li>write rows on the primary and read them back on each node;</li>
 *   <li>print the cluster's status;</li>
 *   <li>scale in by one node;</li>
 *   <li>print each operation's duration.</li>
 * </ol>
 * Everything lives in a temporary directory that is deleted at the end, also on Ctrl-C. With
 * {@code POLARDB_HOME} the nodes are PolarDB ones on shared storage: in local-file-system mode, or,
 * with {@code POLARSCALE_PFS_DEVICE} (as root), on PFS on that block device ({@link DemoPfs}).
 */
public final class Demo {
    private static final int ROWS = 1_000;

    private static volatile boolean finished;
    private static volatile boolean interrupted;

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        quietLibraryLogs();
        String polarHome = System.getenv("POLARDB_HOME");
        String pfsDevice = System.getenv("POLARSCALE_PFS_DEVICE");
        LocalCluster.Builder builder = LocalCluster.builder().listener(new ProgressPrinter());
        DemoPfs pfs = null;
        if (polarHome != null && !polarHome.isBlank() && pfsDevice != null && !pfsDevice.isBlank()) {
            String pfsCluster = System.getenv().getOrDefault("POLARSCALE_PFS_CLUSTER", "disk");
            System.out.println("PolarScale demo: a PolarDB primary and shared-storage replicas on this machine "
                    + "(POLARDB_HOME=" + polarHome + ", PFS on /dev/" + DeviceName.of(pfsDevice) + ", cluster " + pfsCluster
                    + ", directory " + DemoPfs.DIRECTORY + ")");
            pfs = DemoPfs.prepare(Path.of(polarHome), pfsDevice, pfsCluster,
                    "empty-device".equals(System.getenv("POLARSCALE_PFS_FORMAT")));
            builder.polarDbOnPfs(PgInstallation.at(Path.of(polarHome, "bin")), pfs.storage());
        } else if (polarHome != null && !polarHome.isBlank()) {
            builder.polarDb(PgInstallation.at(Path.of(polarHome, "bin")));
            System.out.println("PolarScale demo: a PolarDB primary and shared-storage replicas on this machine "
                    + "(POLARDB_HOME=" + polarHome + ", local-file-system mode)");
        } else {
            System.out.println("PolarScale demo: a primary and streaming standbys on this machine (plain PostgreSQL)");
        }
        long t0 = System.nanoTime();
        LocalCluster cluster = builder.build();
        DemoPfs storage = pfs;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!finished) {
                interrupted = true;
                System.out.println();
                System.out.println("Interrupted: stopping every node and deleting its directory ...");
                cluster.close(); // waits for LocalCluster's own hook if that one runs first
                if (storage != null) {
                    storage.close();
                }
                System.out.println("Interrupted: cleaned up.");
            }
        }, "demo-interrupt"));
        try {
            run(cluster);
        } catch (RuntimeException e) {
            if (interrupted || cluster.isClosed()) {
                return; // Ctrl-C closed the cluster under the running step; the hook reports the cleanup
            }
            if (e instanceof PolarException p && p.reason() == PolarException.Reason.DEVICE_NOT_FORMATTED) {
                System.out.println("      The device holds no file system: set POLARSCALE_PFS_FORMAT=empty-device to "
                        + "have the demo format it (only a device proven empty is formatted).");
            }
            throw e;
        } finally {
            try {
                if (!cluster.isClosed()) {
                    Path base = baseOrNull(cluster);
                    cluster.close();
                    System.out.printf("%nCleaned up: every server stopped, %s deleted.%n", base);
                }
            } finally {
                if (storage != null) {
                    storage.close();
                    System.out.println("Cleaned up on PFS: the demo's directory emptied and removed; a pfsd or pfs "
                            + "link the demo started, stopped and removed.");
                }
                finished = true;
            }
        }
        System.out.printf("Demo finished in %.1f s.%n", seconds(System.nanoTime() - t0));
    }

    private static void run(LocalCluster cluster) throws SQLException {
        System.out.println();
        System.out.println("[1/6] Deploy the primary");
        cluster.start();
        System.out.printf("      %s%n      binaries %s%n      data under %s, servers run as OS user %s%n",
                version(cluster.dataSource()), cluster.primary().installation().binDir(), cluster.baseDirectory(),
                cluster.primary().osUser().orElse(System.getProperty("user.name")));

        System.out.println();
        String kind = cluster.isPolarDb() ? "replica" : "standby";
        System.out.println("[2/6] Scale out to two " + kind + "s");
        for (String name : new String[]{kind + "1", kind + "2"}) {
            System.out.println("      " + name + ":");
            OperationReport r = cluster.addNode(name);
            System.out.printf("      %s streaming on port %d after %d ms; a canary row was visible %.1f ms after commit%n",
                    name, cluster.node(name).port().value(), r.total().toMillis(), r.canaryLag().toNanos() / 1e6);
        }

        System.out.println();
        System.out.printf("[3/6] Write %d rows on the primary, read them back on each node%n", ROWS);
        long committed;
        long expectedSum = (long) ROWS * (ROWS + 1) / 2;
        try (Connection c = cluster.dataSource().getConnection(); Statement s = c.createStatement()) {
            long w0 = System.nanoTime();
            s.execute("CREATE TABLE demo_orders(id int PRIMARY KEY, item text NOT NULL)");
            s.execute("INSERT INTO demo_orders SELECT i, 'item ' || i FROM generate_series(1, " + ROWS + ") i");
            committed = System.nanoTime();
            System.out.printf("      %-9s wrote %d rows in %d ms (autocommit)%n", "primary", ROWS, (committed - w0) / 1_000_000);
        }
        System.out.println("      (each node is read in turn until it has them all; the time is when its read returned)");
        for (String node : cluster.nodeNames()) {
            long[] seen = awaitRows(cluster.dataSource(node), ROWS);
            System.out.printf("      %-9s read  %d rows, sum(id) = %d (expected %d), at +%.1f ms after the commit%n",
                    node, seen[0], seen[1], expectedSum, (seen[2] - committed) / 1e6);
            if (seen[0] != ROWS || seen[1] != expectedSum) {
                throw new IllegalStateException(node + " returned " + seen[0] + " rows, sum " + seen[1]);
            }
        }

        System.out.println();
        System.out.println("[4/6] Cluster status");
        System.out.print(indent(cluster.status().toTable()));

        System.out.println();
        System.out.println("[5/6] Scale in: remove " + kind + "2");
        OperationReport removed = cluster.removeNode(kind + "2");
        System.out.printf("      %s2 removed in %d ms (stopped, slot dropped, directory deleted)%n", kind,
                removed.total().toMillis());
        System.out.print(indent(cluster.status().toTable()));

        System.out.println();
        System.out.println("[6/6] What each operation took (from its OperationReport)");
        System.out.printf("      %-26s %5s %10s  %s%n", "operation", "steps", "total ms", "slowest step");
        for (OperationReport r : cluster.reports()) {
            OperationReport.StepTiming slowest = r.steps().stream()
                    .max(java.util.Comparator.comparing(OperationReport.StepTiming::took)).orElseThrow();
            System.out.printf("      %-26s %5d %10d  %s %d ms%n", r.operation(), r.steps().size(), r.total().toMillis(),
                    slowest.step(), slowest.took().toMillis());
        }
    }

    /** Polls a node until it returns {@code expected} rows: {count, sum(id), nanoTime when seen}. */
    private static long[] awaitRows(DataSource ds, long expected) throws SQLException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            while (true) {
                try (ResultSet rs = s.executeQuery("SELECT count(*), coalesce(sum(id), 0) FROM demo_orders")) {
                    rs.next();
                    long now = System.nanoTime();
                    long n = rs.getLong(1);
                    if (n == expected || now > deadline) {
                        return new long[]{n, rs.getLong(2), now};
                    }
                } catch (SQLException e) {
                    if (!"42P01".equals(e.getSQLState()) || System.nanoTime() > deadline) {
                        throw e; // anything but "the table has not arrived yet"
                    }
                }
            }
        }
    }

    private static String version(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT version()")) {
            rs.next();
            String v = rs.getString(1);
            int comma = v.indexOf(',');
            return comma > 0 ? v.substring(0, comma) : v;
        }
    }

    private static Path baseOrNull(LocalCluster cluster) {
        try {
            return cluster.baseDirectory();
        } catch (IllegalStateException notStarted) {
            return null;
        }
    }

    private static String indent(String table) {
        return table.lines().map(l -> "      " + l + System.lineSeparator()).reduce("", String::concat);
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    /** The library logs each step at INFO; the demo prints its own lines, so only warnings show. */
    private static void quietLibraryLogs() {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
    }

    /** Prints each step of each operation as it finishes. */
    private static final class ProgressPrinter implements ScaleListener {
        @Override
        public void stepFinished(String operation, String step, Duration took) {
            System.out.printf(Locale.ROOT, "        %-22s %-20s %6d ms%n", operation, step, took.toMillis());
        }

        @Override
        public void stepFailed(String operation, String step, Throwable cause) {
            System.out.printf(Locale.ROOT, "        %-22s %-20s FAILED: %s%n", operation, step, cause.getMessage());
        }

        @Override
        public void stepUndone(String operation, String step) {
            System.out.printf(Locale.ROOT, "        %-22s %-20s undone%n", operation, step);
        }
    }
}
