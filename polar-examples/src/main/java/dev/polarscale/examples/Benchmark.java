package dev.polarscale.examples;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.core.FreePorts;
import dev.polarscale.core.OsUsers;
import dev.polarscale.core.PgBinaries;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.ShellQuoting;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.replication.ClusterScaler;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.LocalCluster;
import dev.polarscale.replication.OperationReport;
import dev.polarscale.storage.SharedStorage;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * Times the scaling steps on this machine, done by the library ({@link LocalCluster} over the real
 * {@code ClusterScaler}) and by a plain shell script of the tutorial's commands, and prints the
 * ratio library / shell per step. Not a test: run it on purpose.
 *
 * <pre>
 * ./mvnw -B -q -DskipTests package exec:java -pl polar-examples -am \
 *     -Dexec.mainClass=dev.polarscale.examples.Benchmark [-Dexec.args="--quick"]
 * </pre>
 *
 * Options: {@code --quick} (100 MB instead of 1 GB), {@code --size-mb N} (database size for the
 * "large" add), {@code --reps N} (repetitions of add-one and remove, median reported; default 3),
 * {@code --commits N} (commit-to-visible samples, at least 200), {@code --out FILE} (CSV, default
 * {@code target/benchmark.csv}).
 */
public final class Benchmark {
    private static final String HOST = "127.0.0.1";

    private final int sizeMb;
    private final int reps;
    private final int commits;
    private final Path csv;
    private final int fixtureReps;
    private final boolean scaling;
    private final boolean fixtures;
    private final List<Row> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private static final String ZONKY_CHILD = "--zonky-child";

    private Benchmark(int sizeMb, int reps, int commits, Path csv, int fixtureReps, boolean scaling,
                      boolean fixtures) {
        this.sizeMb = sizeMb;
        this.reps = reps;
        this.commits = commits;
        this.csv = csv;
        this.fixtureReps = fixtureReps;
        this.scaling = scaling;
        this.fixtures = fixtures;
    }

    /** One line of the result: the same step by both, in milliseconds (NaN: not measured). */
    private record Row(String step, double libraryMs, double shellMs, String note) {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        if (args.length == 3 && args[0].equals(ZONKY_CHILD)) {
            Fixtures.zonkyChild(Integer.parseInt(args[1]), args[2].equals("-") ? Optional.empty()
                    : Optional.of(Path.of(args[2])));
            return;
        }
        int sizeMb = 1024;
        int reps = 3;
        int commits = 200;
        int fixtureReps = 5;
        boolean scaling = true;
        boolean fixtures = true;
        Path out = Path.of("target", "benchmark.csv");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> sizeMb = 100;
                case "--size-mb" -> sizeMb = positive(args, ++i, 1);
                case "--reps" -> reps = positive(args, ++i, 1);
                case "--commits" -> commits = positive(args, ++i, 200);
                case "--fixture-reps" -> fixtureReps = positive(args, ++i, 1);
                case "--fixtures-only" -> scaling = false;
                case "--no-fixtures" -> fixtures = false;
                case "--out" -> out = Path.of(value(args, ++i));
                default -> throw new IllegalArgumentException("unknown option '" + args[i]
                        + "'; options: --quick, --size-mb N, --reps N, --commits N (>= 200), --fixture-reps N, "
                        + "--fixtures-only, --no-fixtures, --out FILE");
            }
        }
        if (!scaling && !fixtures) {
            throw new IllegalArgumentException("--fixtures-only and --no-fixtures leave nothing to measure");
        }
        new Benchmark(sizeMb, reps, commits, out, fixtureReps, scaling, fixtures).run();
    }

    private void run() throws Exception {
        long t0 = System.nanoTime();
        PgInstallation pg = PgBinaries.locate();
        CommandExecutor local = Executors.local();
        Optional<String> osUser = OsUsers.serverUser(local);
        boolean pgbench = pg.has("pgbench");
        String load = pgbench ? "pgbench -i -s " + pgbenchScale()
                : "JDBC INSERT ... SELECT generate_series (no pgbench next to postgres)";
        System.out.printf("PolarScale benchmark, %s, %d cores, binaries %s, servers as OS user %s%n",
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME), Runtime.getRuntime()
                        .availableProcessors(), pg.binDir(), osUser.orElse(System.getProperty("user.name")));
        if (fixtures) {
            System.out.printf("fixtures: %d timed start(s) and close(s) each, after one warm-up%n%n", fixtureReps);
            Fixtures f = new Fixtures(pg, local, osUser, fixtureReps);
            f.run();
            f.print();
            f.writeCsv(fixtureCsv());
            if (!scaling) {
                System.out.printf("%nTotal benchmark time %.0f s; CSV: %s%n", (System.nanoTime() - t0) / 1e9,
                        fixtureCsv().toAbsolutePath());
                return;
            }
            System.out.println();
        }
        System.out.printf("large database: ~%d MB by %s; %d commits for the lag; %d repetition(s)%n%n",
                sizeMb, load, commits, reps);

        System.out.println("Library (LocalCluster / ClusterScaler) ...");
        double[] lib = library(pg, osUser, pgbench);

        String skipShell = null;
        if (!pg.has("psql") || !pg.has("pg_basebackup")) {
            skipShell = "psql or pg_basebackup is missing in " + pg.binDir()
                    + " (the embedded binaries have only initdb, pg_ctl and postgres)";
        }
        double[] sh = new double[lib.length];
        Arrays.fill(sh, Double.NaN);
        if (skipShell == null) {
            System.out.println("Shell script of the tutorial's commands ...");
            sh = new ShellRun(pg, local, osUser).run(pgbench);
        } else {
            System.out.println("Shell comparison skipped: " + skipShell);
            notes.add("shell comparison skipped: " + skipShell);
        }

        String[] steps = {
                "deploy primary",
                "add 1 node (empty db)",
                "add 4 nodes sequentially",
                "add 4 nodes in parallel",
                "remove 1 node",
                "commit-to-visible median",
                "commit-to-visible p99",
                "load ~" + sizeMb + " MB (" + (pgbench ? "pgbench" : "JDBC") + ")",
                "add 1 node (~" + sizeMb + " MB db)",
        };
        String[] stepNotes = {
                "lib: initdb template copy, conf, hba, start, repl role, registry, verify",
                "call -> answers, slot active (lib also: streaming + canary row)",
                "sum of 4 adds one after another",
                "wall clock; lib serialises them on the cluster lock",
                "stop, slot inactive, drop slot, delete dir",
                commits + " inserts on primary, polled on standby (JDBC)",
                "",
                "not a scaling step; shown for scale",
                "pg_basebackup of the loaded database",
        };
        for (int i = 0; i < steps.length; i++) {
            rows.add(new Row(steps[i], lib[i], sh[i], stepNotes[i]));
        }
        print();
        writeCsv();
        System.out.printf("%nTotal benchmark time %.0f s; CSV: %s%s%n", (System.nanoTime() - t0) / 1e9,
                csv.toAbsolutePath(), fixtures ? ", " + fixtureCsv().toAbsolutePath() : "");
    }

    /** The fixture table's CSV next to the main one: {@code benchmark.csv} gives {@code benchmark-fixtures.csv}. */
    private Path fixtureCsv() {
        String name = csv.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String fixtureName = dot > 0 ? name.substring(0, dot) + "-fixtures" + name.substring(dot) : name + "-fixtures";
        return csv.resolveSibling(fixtureName);
    }

    // ------------------------------------------------------------------ library

    private double[] library(PgInstallation pg, Optional<String> osUser, boolean pgbench) throws Exception {
        double[] r = new double[9];
        // fsync on and on disk, as in the shell half: the comparison is about the procedure
        try (LocalCluster c = LocalCluster.builder().installation(pg).fsync(true).tmpfs(false).build().start()) {
            r[0] = ms(c.reports().get(0).total());
            progress("deploy primary", r[0]);
            List<Double> adds = new ArrayList<>();
            List<Double> removes = new ArrayList<>();
            for (int i = 0; i < reps; i++) {
                adds.add(ms(c.addStandby("one").total()));
                removes.add(ms(c.removeNode("one").total()));
            }
            r[1] = median(adds);
            r[4] = median(removes);
            progress("add 1 node", r[1]);
            progress("remove 1 node", r[4]);

            long s0 = System.nanoTime();
            for (int i = 1; i <= 4; i++) {
                c.addStandby("seq" + i);
            }
            r[2] = (System.nanoTime() - s0) / 1e6;
            progress("add 4 nodes sequentially", r[2]);
            for (int i = 1; i <= 4; i++) {
                c.removeNode("seq" + i);
            }

            List<OperationReport> parallel = new ArrayList<>();
            List<String> failed = new ArrayList<>();
            double wall = parallel(4, i -> {
                try {
                    OperationReport rep = c.addStandby("par" + i);
                    synchronized (parallel) {
                        parallel.add(rep);
                    }
                } catch (RuntimeException e) {
                    synchronized (parallel) {
                        failed.add("par" + i + ": " + e.getMessage());
                    }
                }
                return null;
            });
            r[3] = failed.isEmpty() ? wall : Double.NaN;
            progress("add 4 nodes in parallel" + (failed.isEmpty() ? "" : ": " + failed.size() + " FAILED"), r[3]);
            StringBuilder waits = new StringBuilder();
            for (OperationReport rep : parallel) {
                double lockWait = rep.steps().stream().filter(s -> s.step().equals("lock"))
                        .mapToDouble(s -> ms(s.took())).sum();
                double work = rep.steps().stream().filter(s -> !s.step().equals("lock"))
                        .mapToDouble(s -> ms(s.took())).sum();
                waits.append(String.format(Locale.ROOT, " %s total %.0f ms: waited %.0f ms for the lock, "
                        + "then its steps %.0f ms;", rep.operation(), ms(rep.total()), lockWait, work));
            }
            notes.add("library, 4 parallel adds (serialised on the cluster lock):" + waits);
            if (!failed.isEmpty()) {
                notes.add("library, 4 parallel adds: " + failed.size() + " FAILED (undone by the scaler): "
                        + String.join("; ", failed));
            }
            for (int i = 2; i <= 4; i++) {
                if (c.standbyNames().contains("par" + i)) {
                    c.removeNode("par" + i);
                }
            }
            if (!c.standbyNames().contains("par1")) {
                c.addStandby("par1"); // the lag below needs one standby
            }

            double[] lag = lag(() -> connect(c.jdbcUrl(), c.username(), c.password()),
                    () -> connect(c.jdbcUrl("par1"), c.username(), c.password()));
            r[5] = lag[0];
            r[6] = lag[1];
            progress("commit-to-visible median", r[5]);
            notes.add(String.format(Locale.ROOT, "library lag: median %.2f ms, p99 %.2f ms, max %.2f ms over %d commits",
                    lag[0], lag[1], lag[2], commits));
            c.removeNode("par1");

            long l0 = System.nanoTime();
            long bytes = loadData(pgbench, pg, osUser, c.primary().port().value(), c.username(),
                    Optional.of(c.password()), () -> connect(c.jdbcUrl(), c.username(), c.password()));
            r[7] = (System.nanoTime() - l0) / 1e6;
            notes.add(String.format(Locale.ROOT, "library cluster database size after the load: %.0f MB", bytes / 1048576.0));
            progress("load", r[7]);
            r[8] = ms(c.addStandby("big").total());
            progress("add 1 node to the loaded database", r[8]);
        }
        return r;
    }

    // ------------------------------------------------------------------ shell

    /** The tutorial's steps as bash scripts, run through the local executor as the server OS user. */
    private final class ShellRun {
        private final PgInstallation pg;
        private final CommandExecutor local;
        private final Optional<String> osUser;
        private Path base;
        private int primaryPort;

        ShellRun(PgInstallation pg, CommandExecutor local, Optional<String> osUser) {
            this.pg = pg;
            this.local = local;
            this.osUser = osUser;
        }

        double[] run(boolean pgbench) throws Exception {
            double[] r = new double[9];
            base = Files.createTempDirectory("polarscale-bench-shell-");
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
            if (osUser.isPresent()) { // the scripts run as the server OS user, who creates the node directories
                local.run(Command.of("chown", "--", osUser.get(), base.toString()).withTimeout(Duration.ofSeconds(30)));
            }
            Thread hook = new Thread(this::cleanup, "benchmark-shell-cleanup");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                primaryPort = freePort();
                r[0] = timed(deployScript());
                progress("deploy primary", r[0]);
                List<Double> adds = new ArrayList<>();
                List<Double> removes = new ArrayList<>();
                int retries = 0;
                for (int i = 0; i < reps; i++) {
                    adds.add(timed(addScript("one", freePort())));
                    long t = System.nanoTime();
                    retries += Integer.parseInt(bash(removeScript("one")).strip());
                    removes.add((System.nanoTime() - t) / 1e6);
                }
                r[1] = median(adds);
                r[4] = median(removes);
                progress("add 1 node", r[1]);
                progress("remove 1 node", r[4]);
                notes.add("shell remove: the tutorial's pg_drop_replication_slot right after pg_ctl stop failed "
                        + "with 'slot is active' and was retried " + retries + " time(s) (every 50 ms) in "
                        + reps + " removal(s)");

                long s0 = System.nanoTime();
                for (int i = 1; i <= 4; i++) {
                    bash(addScript("seq" + i, freePort()));
                }
                r[2] = (System.nanoTime() - s0) / 1e6;
                progress("add 4 nodes sequentially", r[2]);
                for (int i = 1; i <= 4; i++) {
                    bash(removeScript("seq" + i));
                }

                int[] ports = {freePort(), freePort(), freePort(), freePort()};
                try {
                    r[3] = parallel(4, i -> bash(addScript("par" + i, ports[i - 1])));
                    progress("add 4 nodes in parallel", r[3]);
                    notes.add("shell, 4 parallel adds: nothing serialises them; they ran at the same time");
                } catch (Exception failed) {
                    // The tutorial's slot reserves no WAL until a walsender uses it; concurrent
                    // base backups can then find their start segment already recycled.
                    r[3] = Double.NaN;
                    String why = String.valueOf(failed.getMessage()).lines()
                            .filter(l -> l.startsWith("pg_basebackup:") || l.contains("ERROR")).findFirst()
                            .orElse(failed.toString());
                    progress("add 4 nodes in parallel: FAILED", Double.NaN);
                    notes.add("shell, 4 parallel adds FAILED (" + why.strip() + ")");
                }
                for (int i = 2; i <= 4; i++) {
                    bestEffort(removeScript("par" + i));
                }
                bestEffort(prelude() + "for N in par1 par2 par3 par4; do "
                        + "q $PP \"SELECT pg_drop_replication_slot('$N')\" >/dev/null 2>&1 || true; done\n");
                if (!Files.exists(base.resolve("par1").resolve("PG_VERSION"))) {
                    bash(addScript("par1", ports[0])); // the lag below needs one standby
                }

                double[] lag = lag(() -> connect(url(primaryPort), "postgres", ""),
                        () -> connect(url(ports[0]), "postgres", ""));
                r[5] = lag[0];
                r[6] = lag[1];
                progress("commit-to-visible median", r[5]);
                notes.add(String.format(Locale.ROOT, "shell-built cluster lag: median %.2f ms, p99 %.2f ms, max %.2f ms",
                        lag[0], lag[1], lag[2]));
                bash(removeScript("par1"));

                long l0 = System.nanoTime();
                long bytes = loadData(pgbench, pg, osUser, primaryPort, "postgres", Optional.empty(),
                        () -> connect(url(primaryPort), "postgres", ""));
                r[7] = (System.nanoTime() - l0) / 1e6;
                notes.add(String.format(Locale.ROOT, "shell cluster database size after the load: %.0f MB", bytes / 1048576.0));
                progress("load", r[7]);
                r[8] = timed(addScript("big", freePort()));
                progress("add 1 node to the loaded database", r[8]);
            } finally {
                cleanup();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs cleanup() too; it is idempotent
                }
            }
            return r;
        }

        private String url(int port) {
            return "jdbc:postgresql://" + HOST + ":" + port + "/postgres";
        }

        private String prelude() {
            return "set -euo pipefail\nBIN=" + ShellQuoting.quote(pg.binDir().toString()) + "\nBASE="
                    + ShellQuoting.quote(base.toString()) + "\nPP=" + primaryPort + "\n"
                    + "q() { \"$BIN/psql\" -h 127.0.0.1 -p \"$1\" -U postgres -d postgres -Atqc \"$2\"; }\n";
        }

        /** Tutorial A4, A7-A10: initdb, append the configuration, allow replication, start, check. */
        private String deployScript() {
            return prelude() + """
                    D="$BASE/primary"
                    "$BIN/initdb" -D "$D" -U postgres -A trust --no-sync -E UTF8 --locale=C >/dev/null
                    cat >> "$D/postgresql.conf" <<EOF
                    port = $PP
                    listen_addresses = '127.0.0.1'
                    unix_socket_directories = '$D'
                    wal_level = replica
                    max_wal_senders = 16
                    max_replication_slots = 16
                    hot_standby = on
                    EOF
                    echo "host replication postgres 127.0.0.1/32 trust" >> "$D/pg_hba.conf"
                    "$BIN/pg_ctl" -D "$D" -l "$D/server.log" -w start >/dev/null
                    q $PP 'SELECT version()' >/dev/null
                    """;
        }

        /** Tutorial B8-B12 for a standby: slot, pg_basebackup -R, own port, start, check, slot active. */
        private String addScript(String name, int port) {
            return prelude() + "N=" + name + "\nP=" + port + "\n" + """
                    S="$BASE/$N"
                    q $PP "SELECT pg_create_physical_replication_slot('$N')" >/dev/null
                    "$BIN/pg_basebackup" -h 127.0.0.1 -p $PP -U postgres -D "$S" -S "$N" -R -X stream --checkpoint=fast
                    cat >> "$S/postgresql.conf" <<EOF
                    port = $P
                    unix_socket_directories = '$S'
                    EOF
                    "$BIN/pg_ctl" -D "$S" -l "$S/server.log" -w start >/dev/null
                    test "$(q $P 'SELECT pg_is_in_recovery()')" = t
                    for i in $(seq 1 1200); do
                      [ "$(q $PP "SELECT active FROM pg_replication_slots WHERE slot_name = '$N'")" = t ] && exit 0
                      sleep 0.05
                    done
                    echo "slot $N not active after 60 s" >&2
                    exit 1
                    """;
        }

        /** Tutorial C1-C2 and the directory; prints how often the slot drop had to be retried. */
        private String removeScript(String name) {
            return prelude() + "N=" + name + "\n" + """
                    S="$BASE/$N"
                    "$BIN/pg_ctl" -D "$S" -m fast -w stop >/dev/null
                    retries=0
                    until q $PP "SELECT pg_drop_replication_slot('$N')" >/dev/null 2>&1; do
                      retries=$((retries + 1))
                      [ $retries -lt 200 ] || { echo "cannot drop slot $N" >&2; exit 1; }
                      sleep 0.05
                    done
                    rm -rf "$S"
                    echo $retries
                    """;
        }

        private double timed(String script) {
            long t = System.nanoTime();
            bash(script);
            return (System.nanoTime() - t) / 1e6;
        }

        private void bestEffort(String script) {
            Command c = Command.of("bash", "-c", script).withTimeout(Duration.ofMinutes(10));
            local.execute(osUser.map(c::asUser).orElse(c));
        }

        private String bash(String script) {
            Command c = Command.of("bash", "-c", script).withTimeout(Duration.ofMinutes(10));
            return local.run(osUser.map(c::asUser).orElse(c)).stdout();
        }

        /** Stops whatever runs under the base directory and deletes it; idempotent. */
        private synchronized void cleanup() {
            if (base == null) {
                return;
            }
            String script = "for d in \"$1\"/*/; do [ -f \"$d/postmaster.pid\" ] && \"$2/pg_ctl\" -D \"$d\" "
                    + "-m immediate -w stop >/dev/null 2>&1; done; true";
            Command stop = Command.of("bash", "-c", script, "bash", base.toString(), pg.binDir().toString())
                    .withTimeout(Duration.ofMinutes(2));
            local.execute(osUser.map(stop::asUser).orElse(stop));
            local.execute(Command.of("rm", "-rf", "--", base.toString()).withTimeout(Duration.ofMinutes(2)));
            base = null;
        }
    }

    // ------------------------------------------------------------------ fixtures

    /**
     * Fixture start-up, the way integration tests compare fixtures: {@link LocalCluster} with 0, 1
     * and 2 standbys against zonky's {@code EmbeddedPostgres} (one node) on the same binaries (the
     * embedded ones: zonky's own archive, which {@code PgBinaries.embedded()} extracts as well), then
     * on the system's binaries; and with {@code POLARDB_HOME}, the PolarDB {@code deployPrimary}
     * against the tutorial's hand-run commands. Each is started and closed {@code reps} times after
     * one untimed warm-up; the table shows medians, the notes every sample.
     */
    private static final class Fixtures {
        /** One line: medians in ms (NaN: not measured), and what it is compared with. */
        private record FixtureRow(String fixture, String binaries, String dataOn, double readyMs, double closeMs,
                                  String note) {
        }

        private static final Path SHM = Path.of("/dev/shm");
        private final PgInstallation system;
        private final CommandExecutor local;
        private final Optional<String> osUser;
        private final int reps;
        private final List<FixtureRow> rows = new ArrayList<>();
        private final List<String> notes = new ArrayList<>();

        Fixtures(PgInstallation system, CommandExecutor local, Optional<String> osUser, int reps) {
            this.system = system;
            this.local = local;
            this.osUser = osUser;
            this.reps = reps;
        }

        void run() throws Exception {
            Optional<PgInstallation> embedded = PgBinaries.embedded();
            boolean shm = isTmpfs(SHM);
            String shmLabel = "tmpfs " + SHM;
            String tmpLabel = store(Path.of(System.getProperty("java.io.tmpdir")));
            if (embedded.isPresent()) {
                String bins = "embedded " + version(embedded.get());
                String defaultOn = defaultBase();
                double[] primaryOnly = localClusters(embedded.get(), bins, 0, true, defaultOn);
                localClusters(embedded.get(), bins, 1, true, defaultOn);
                localClusters(embedded.get(), bins, 2, true, defaultOn);
                double[] zonky = zonky(bins, Optional.empty(), tmpLabel);
                ratio("LocalCluster primary only / zonky", bins, "(defaults)", primaryOnly, zonky,
                        "each fixture where it puts its data by default");
                if (shm && !defaultOn.equals(tmpLabel)) {
                    double[] onDisk = localClusters(embedded.get(), bins, 0, false, tmpLabel);
                    localClusters(embedded.get(), bins, 1, false, tmpLabel);
                    ratio("LocalCluster primary only / zonky", bins, tmpLabel, onDisk, zonky, "both on the same disk");
                    double[] zonkyShm = zonky(bins, Optional.of(SHM), shmLabel);
                    ratio("LocalCluster primary only / zonky", bins, shmLabel, primaryOnly, zonkyShm,
                            "both in memory");
                }
            } else {
                notes.add("zonky comparison skipped: the embedded binaries are not on the class path");
            }
            if (embedded.isEmpty() || !embedded.get().binDir().equals(system.binDir())) {
                String bins = "system " + version(system);
                for (int n = 0; n <= 2; n++) {
                    localClusters(system, bins, n, true, defaultBase());
                }
                coldStart(system, bins);
            }
            String polarHome = System.getenv("POLARDB_HOME");
            if (polarHome == null || polarHome.isBlank()) {
                notes.add("PolarDB deployPrimary skipped: POLARDB_HOME is not set");
            } else {
                polarDb(PgInstallation.at(Path.of(polarHome, "bin")), tmpLabel);
            }
        }

        /** Starts and closes LocalClusters: {median ready, median close} in ms. */
        private double[] localClusters(PgInstallation pg, String bins, int standbys, boolean tmpfs, String dataOn) {
            String what = "LocalCluster primary" + (standbys == 0 ? " only" : " + " + standbys + " standby"
                    + (standbys > 1 ? "s" : ""));
            LocalCluster.Builder b = LocalCluster.builder().installation(pg).standbys(standbys).tmpfs(tmpfs);
            b.build().start().close(); // warm-up: JIT, and the template if this binaries version has none yet
            List<Double> ready = new ArrayList<>();
            List<Double> close = new ArrayList<>();
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                LocalCluster c = b.build().start();
                ready.add((System.nanoTime() - t0) / 1e6);
                long t1 = System.nanoTime();
                c.close();
                close.add((System.nanoTime() - t1) / 1e6);
            }
            return add(what, bins, dataOn, ready, close, "start() returned: every node answers"
                    + (standbys > 0 ? ", standbys stream, canary row read" : ""));
        }

        private void ratio(String what, String bins, String dataOn, double[] a, double[] b, String note) {
            rows.add(new FixtureRow(what, bins, dataOn, a[0] / b[0], a[1] / b[1], "ratio of the medians: " + note));
        }

        /** Where a LocalCluster puts its base directory by default here (LocalCluster.Builder.tmpfs). */
        private static String defaultBase() {
            return isTmpfs(SHM) && freeGiB(SHM) >= 4 ? "tmpfs " + SHM
                    : store(Path.of(System.getProperty("java.io.tmpdir")));
        }

        private static boolean isTmpfs(Path p) {
            try {
                return Files.isDirectory(p) && "tmpfs".equals(Files.getFileStore(p).type());
            } catch (IOException e) {
                return false;
            }
        }

        private static long freeGiB(Path p) {
            try {
                return Files.getFileStore(p).getUsableSpace() >> 30;
            } catch (IOException e) {
                return 0;
            }
        }

        private static String store(Path p) {
            try {
                return Files.getFileStore(p).type() + " " + p;
            } catch (IOException e) {
                return p.toString();
            }
        }

        /** The first start with an empty template cache: the template is made on the way. */
        private void coldStart(PgInstallation pg, String bins) throws IOException {
            Path dir = Files.createTempDirectory("polarscale-bench-templates-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
            try {
                long t0 = System.nanoTime();
                LocalCluster c = LocalCluster.builder().installation(pg).templateCache(dir.resolve("t")).build()
                        .start();
                double ready = (System.nanoTime() - t0) / 1e6;
                c.close();
                rows.add(new FixtureRow("LocalCluster primary only, empty cache", bins, defaultBase(), ready,
                        Double.NaN, "once: the initdb template is made on the way"));
                progress("LocalCluster, template made", ready);
            } finally {
                local.execute(Command.of("rm", "-rf", "--", dir.toString()).withTimeout(Duration.ofMinutes(1)));
            }
        }

        /** zonky's EmbeddedPostgres, its data in {@code java.io.tmpdir} (its default) or under {@code dataParent}. */
        private double[] zonky(String bins, Optional<Path> dataParent, String dataOn) throws Exception {
            List<Double> ready = new ArrayList<>();
            List<Double> close = new ArrayList<>();
            if (osUser.isEmpty()) {
                for (double[] sample : zonkyRuns(reps, dataParent)) {
                    ready.add(sample[0]);
                    close.add(sample[1]);
                }
            } else {
                zonkyAsServerUser(osUser.get(), dataParent, ready, close);
                if (notes.stream().noneMatch(n -> n.startsWith("zonky ran"))) {
                    notes.add("zonky ran in a child JVM as " + osUser.get() + " (PostgreSQL refuses root; zonky runs "
                            + "its commands as the JVM's user); start and close are timed inside that JVM, after a "
                            + "warm-up");
                }
            }
            return add("zonky EmbeddedPostgres (one node)", bins, dataOn, ready, close,
                    "start() returned: initdb, pg_ctl start -w, SELECT 1");
        }

        /** Child mode: warm-up, then {@code reps} start/close cycles, one line each: ready and close in ms. */
        static void zonkyChild(int reps, Optional<Path> dataParent) throws IOException {
            for (double[] sample : zonkyRuns(reps, dataParent)) {
                System.out.printf(Locale.ROOT, "zonky %.3f %.3f%n", sample[0], sample[1]);
            }
        }

        private static List<double[]> zonkyRuns(int reps, Optional<Path> dataParent) throws IOException {
            zonkyBuilder(dataParent).start().close();
            List<double[]> out = new ArrayList<>();
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                EmbeddedPostgres pg = zonkyBuilder(dataParent).start();
                double ready = (System.nanoTime() - t0) / 1e6;
                long t1 = System.nanoTime();
                pg.close();
                out.add(new double[]{ready, (System.nanoTime() - t1) / 1e6});
            }
            return out;
        }

        /** Its defaults, or a fresh data directory under {@code dataParent} (deleted on close, as by default). */
        private static EmbeddedPostgres.Builder zonkyBuilder(Optional<Path> dataParent) throws IOException {
            EmbeddedPostgres.Builder b = EmbeddedPostgres.builder();
            if (dataParent.isPresent()) {
                b.setDataDirectory(Files.createTempDirectory(dataParent.get(), "zonky-")).setCleanDataDirectory(true);
            }
            return b;
        }

        /** The same loop in a child JVM as the server user, on a copy of this class path that user can read. */
        private void zonkyAsServerUser(String user, Optional<Path> dataParent, List<Double> ready, List<Double> close)
                throws Exception {
            Path dir = Files.createTempDirectory("polarscale-bench-zonky-");
            try {
                List<String> cp = new ArrayList<>();
                int i = 0;
                for (Path entry : classPath()) {
                    Path copy = dir.resolve("cp").resolve(i++ + "-" + entry.getFileName());
                    Files.createDirectories(copy.getParent());
                    local.run(Command.of("cp", "-r", "--", entry.toString(), copy.toString())
                            .withTimeout(Duration.ofMinutes(2)));
                    cp.add(copy.toString());
                }
                Files.createDirectories(dir.resolve("tmp"));
                local.run(Command.of("chmod", "-R", "a+rX", dir.toString()).withTimeout(Duration.ofMinutes(1)));
                local.run(Command.of("chown", "--", user, dir.resolve("tmp").toString())
                        .withTimeout(Duration.ofSeconds(30)));
                String java = ProcessHandle.current().info().command().orElse("java");
                Command child = Command.of(java, "-cp", String.join(":", cp), "-Djava.io.tmpdir=" + dir.resolve("tmp"),
                                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", Benchmark.class.getName(), ZONKY_CHILD,
                                Integer.toString(reps), dataParent.map(Path::toString).orElse("-"))
                        .asUser(user).withWorkingDirectory(dir.resolve("tmp")).withTimeout(Duration.ofMinutes(10));
                for (String line : local.run(child).stdout().lines().toList()) {
                    String[] f = line.trim().split(" ");
                    if (f.length == 3 && f[0].equals("zonky")) {
                        ready.add(Double.parseDouble(f[1]));
                        close.add(Double.parseDouble(f[2]));
                    }
                }
                if (ready.size() != reps) {
                    throw new IllegalStateException("the zonky child JVM reported " + ready.size() + " of " + reps
                            + " runs");
                }
            } finally {
                local.execute(Command.of("rm", "-rf", "--", dir.toString()).withTimeout(Duration.ofMinutes(1)));
            }
        }

        /** This program's class path: the exec plugin's class loader, else {@code java.class.path}. */
        private static List<Path> classPath() throws Exception {
            Set<Path> out = new LinkedHashSet<>();
            for (ClassLoader cl = Benchmark.class.getClassLoader(); cl != null; cl = cl.getParent()) {
                if (cl instanceof URLClassLoader u) {
                    for (URL url : u.getURLs()) {
                        out.add(Path.of(url.toURI()));
                    }
                }
            }
            if (out.isEmpty()) {
                for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
                    out.add(Path.of(e));
                }
            }
            return out.stream().filter(Files::exists).toList();
        }

        /**
         * PolarDB: {@code ClusterScaler.deployPrimary()} (local-file-system mode, the template cache
         * in {@code PgBinaries.cacheDirectory()}) against the tutorial's commands A3-A10 by hand.
         */
        private void polarDb(PgInstallation polar, String dataOn) throws Exception {
            String bins = "PolarDB " + version(polar);
            String user = osUser.orElseGet(() -> OsUsers.whoami(local));
            Path cache = PgBinaries.cacheDirectory().resolve("templates");
            Path coldCache = Files.createTempDirectory("polarscale-bench-polar-templates-");
            Files.setPosixFilePermissions(coldCache, PosixFilePermissions.fromString("rwx--x--x"));
            try {
                double cold = polarDeploy(polar, user, coldCache.resolve("t"));
                rows.add(new FixtureRow("PolarDB deployPrimary, empty cache", bins, dataOn, cold, Double.NaN,
                        "once: the initdb template (1 GiB WAL segment) is made on the way"));
                progress("PolarDB deployPrimary, template made", cold);
            } finally {
                local.execute(Command.of("rm", "-rf", "--", coldCache.toString()).withTimeout(Duration.ofMinutes(1)));
            }
            polarDeploy(polar, user, cache); // warm-up
            List<Double> lib = new ArrayList<>();
            for (int i = 0; i < reps; i++) {
                lib.add(polarDeploy(polar, user, cache));
            }
            double libMedian = add("PolarDB deployPrimary", bins, dataOn, lib, List.of(), "call returned: initdb "
                    + "(template), polar-initdb.sh, config, start, repl role, hba, registry, verify")[0];
            handRun(polar, user); // warm-up
            List<Double> shell = new ArrayList<>();
            for (int i = 0; i < reps; i++) {
                shell.add(handRun(polar, user));
            }
            double shellMedian = add("PolarDB hand-run commands", bins, dataOn, shell, List.of(),
                    "bash: initdb, polar-initdb.sh, append config, pg_ctl start -w, psql SELECT version()")[0];
            rows.add(new FixtureRow("PolarDB deployPrimary / hand-run", bins, dataOn, libMedian / shellMedian,
                    Double.NaN, "ratio of the medians above"));
        }

        /** One deploy in a fresh base directory: the report's total in ms; then stopped and deleted. */
        private double polarDeploy(PgInstallation polar, String user, Path cache) throws IOException {
            Path base = Files.createTempDirectory("polarscale-bench-polar-");
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
            ClusterSpec spec = ClusterSpec.builder().primary("primary", HOST, freePort(), base.resolve("primary"))
                    .installation(polar).templateCache(cache)
                    .sharedStorage(SharedStorage.localFileSystem(base.resolve("shared_data"), user)).build();
            try (ClusterScaler scaler = ClusterScaler.forCluster(spec)) {
                return ms(scaler.deployPrimary().total());
            } finally {
                ClusterScaler.forCluster(spec).primaryNode().stop(PostgresNode.StopMode.IMMEDIATE);
                local.execute(Command.of("rm", "-rf", "--", base.toString()).withTimeout(Duration.ofMinutes(2)));
            }
        }

        /** The tutorial's A3-A10 as one bash script run as the server user: its wall-clock time in ms. */
        private double handRun(PgInstallation polar, String user) throws IOException {
            Path base = Files.createTempDirectory("polarscale-bench-polar-shell-");
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
            local.run(Command.of("chown", "--", user, base.toString()).withTimeout(Duration.ofSeconds(30)));
            int port = freePort();
            String prelude = "set -euo pipefail\nBIN=" + ShellQuoting.quote(polar.binDir().toString()) + "\nBASE="
                    + ShellQuoting.quote(base.toString()) + "\nPP=" + port
                    + "\nD=\"$BASE/primary\"\nS=\"$BASE/shared_data\"\n";
            String script = prelude + """
                    mkdir -p "$S"
                    "$BIN/initdb" -D "$D" -U postgres -A trust --no-sync >/dev/null
                    "$BIN/polar-initdb.sh" "$D/" "$S/" primary localfs >/dev/null
                    cat >> "$D/postgresql.conf" <<EOF
                    port = $PP
                    listen_addresses = '127.0.0.1'
                    unix_socket_directories = '$D'
                    polar_hostid = 1
                    polar_enable_shared_storage_mode = on
                    polar_disk_name = 'home'
                    polar_datadir = 'file-dio://$S/'
                    polar_vfs.localfs_mode = on
                    shared_preload_libraries = '\\$libdir/polar_vfs,\\$libdir/polar_worker'
                    logging_collector = on
                    log_directory = 'pg_log'
                    wal_level = replica
                    max_wal_senders = 16
                    max_replication_slots = 16
                    EOF
                    "$BIN/pg_ctl" -D "$D" -l "$D/server.log" -w start >/dev/null
                    "$BIN/psql" -h 127.0.0.1 -p $PP -U postgres -d postgres -Atqc 'SELECT version()' | grep -q PolarDB
                    """;
            Command c = Command.of("bash", "-c", script).withTimeout(Duration.ofMinutes(10));
            try {
                long t0 = System.nanoTime();
                local.run(osUser.isPresent() ? c.asUser(user) : c);
                return (System.nanoTime() - t0) / 1e6;
            } finally {
                Command stop = Command.of(polar.tool("pg_ctl").toString(), "-D", base.resolve("primary").toString(),
                        "-m", "immediate", "-w", "stop").withTimeout(Duration.ofMinutes(2));
                local.execute(osUser.isPresent() ? stop.asUser(user) : stop);
                local.execute(Command.of("rm", "-rf", "--", base.toString()).withTimeout(Duration.ofMinutes(2)));
            }
        }

        /** Adds a row of medians and a note with every sample; returns {ready, close} medians. */
        private double[] add(String what, String bins, String dataOn, List<Double> ready, List<Double> close,
                             String note) {
            double r = median(ready);
            double c = close.isEmpty() ? Double.NaN : median(close);
            rows.add(new FixtureRow(what, bins, dataOn, r, c, note));
            notes.add(String.format(Locale.ROOT, "%s (%s, %s): ready %s ms%s", what, bins, dataOn, samples(ready),
                    close.isEmpty() ? "" : "; close " + samples(close) + " ms"));
            progress(what + ", " + bins + ", " + dataOn, r);
            return new double[]{r, c};
        }

        private static String samples(List<Double> values) {
            return values.stream().map(Benchmark::num).collect(java.util.stream.Collectors.joining(", "));
        }

        private String version(PgInstallation pg) {
            String v = local.run(Command.of(pg.tool("postgres").toString(), "--version")
                    .withTimeout(Duration.ofSeconds(30))).stdout().strip();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\d+(\\.\\d+)+").matcher(v);
            return m.find() ? m.group() : v;
        }

        void print() {
            System.out.println();
            String fmt = "%-40s %-16s %-16s %9s %9s  %s%n";
            System.out.printf(fmt, "fixture (median of " + reps + ")", "binaries", "data on", "ready ms", "close ms",
                    "what is timed");
            for (FixtureRow r : rows) {
                boolean ratio = r.fixture().contains(" / ");
                System.out.printf(fmt, r.fixture(), r.binaries(), r.dataOn(), ratio ? ratio(r.readyMs())
                        : num(r.readyMs()), ratio ? ratio(r.closeMs()) : num(r.closeMs()), r.note());
            }
            System.out.println();
            for (String n : notes) {
                System.out.println("- " + n);
            }
        }

        void writeCsv(Path file) throws IOException {
            StringBuilder sb = new StringBuilder("fixture,binaries,data_on,ready_ms,close_ms,note\n");
            for (FixtureRow r : rows) {
                sb.append(csvField(r.fixture())).append(',').append(csvField(r.binaries())).append(',')
                        .append(csvField(r.dataOn())).append(',')
                        .append(num(r.readyMs())).append(',').append(num(r.closeMs())).append(',')
                        .append(csvField(r.note())).append('\n');
            }
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, sb.toString());
        }

        private static String ratio(double v) {
            return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
        }
    }

    // ------------------------------------------------------------------ shared measurements

    @FunctionalInterface
    private interface ConnectionSource {
        Connection get() throws SQLException;
    }

    /** Inserts on the primary, polls the standby until the row is there: {median, p99, max} in ms. */
    private double[] lag(ConnectionSource primary, ConnectionSource standby) throws SQLException {
        try (Connection p = primary.get(); Connection s = standby.get()) {
            try (Statement st = p.createStatement()) {
                st.execute("CREATE TABLE bench_lag(id int PRIMARY KEY)");
            }
            List<Double> samples = new ArrayList<>();
            try (PreparedStatement ins = p.prepareStatement("INSERT INTO bench_lag VALUES (?)");
                 PreparedStatement sel = s.prepareStatement("SELECT 1 FROM bench_lag WHERE id = ?")) {
                for (int i = 0; i < commits + 10; i++) {
                    ins.setInt(1, i);
                    ins.executeUpdate();
                    long committed = System.nanoTime();
                    sel.setInt(1, i);
                    long deadline = committed + Duration.ofSeconds(10).toNanos();
                    while (true) {
                        try (ResultSet rs = sel.executeQuery()) {
                            if (rs.next()) {
                                break;
                            }
                        } catch (SQLException e) {
                            if (!"42P01".equals(e.getSQLState())) {
                                throw e; // the table itself may not have arrived yet
                            }
                        }
                        if (System.nanoTime() > deadline) {
                            throw new IllegalStateException("row " + i + " not visible on the standby after 10 s");
                        }
                    }
                    if (i >= 10) { // the first ten warm up the connections and plans
                        samples.add((System.nanoTime() - committed) / 1e6);
                    }
                }
            }
            samples.sort(null);
            return new double[]{percentile(samples, 50), percentile(samples, 99), samples.get(samples.size() - 1)};
        }
    }

    /** Fills the primary to about {@link #sizeMb}: pgbench when installed, else one INSERT ... SELECT. */
    private long loadData(boolean pgbench, PgInstallation pg, Optional<String> osUser, int port, String user,
                          Optional<String> password, ConnectionSource primary) throws SQLException {
        if (pgbench) {
            Command c = Command.of(pg.tool("pgbench").toString(), "-i", "-q", "-s", Integer.toString(pgbenchScale()),
                    "-h", HOST, "-p", Integer.toString(port), "-U", user, "postgres").withTimeout(Duration.ofMinutes(30));
            if (password.isPresent()) {
                c = c.withEnv("PGPASSWORD", password.get()).withSecret(password.get());
            }
            Executors.local().run(osUser.map(c::asUser).orElse(c));
        } else {
            long rowsNeeded = sizeMb * 1024L * 1024L / 260; // ~260 bytes per row with its header and padding
            try (Connection c = primary.get(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE bench_bulk AS SELECT g AS id, repeat('x', 200) AS pad "
                        + "FROM generate_series(1, " + rowsNeeded + ") g");
            }
        }
        try (Connection c = primary.get(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_database_size('postgres')")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private int pgbenchScale() {
        return Math.max(1, (int) Math.round(sizeMb * 70.0 / 1024)); // -s 70 is ~1 GB
    }

    /** Runs n tasks at once (released together) and returns the wall-clock time in ms. */
    private static double parallel(int n, IntFunction<Object> task) throws Exception {
        ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(n);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Object>> futures = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                int k = i;
                futures.add(pool.submit(() -> {
                    go.await();
                    return task.apply(k);
                }));
            }
            long t = System.nanoTime();
            go.countDown();
            for (Future<Object> f : futures) {
                f.get();
            }
            return (System.nanoTime() - t) / 1e6;
        } finally {
            pool.shutdownNow();
        }
    }

    // ------------------------------------------------------------------ output

    private static void progress(String what, double ms) {
        System.out.printf(Locale.ROOT, "  %-36s %10s ms%n", what, num(ms));
    }

    private void print() {
        System.out.println();
        String fmt = "%-30s %12s %12s %8s  %s%n";
        System.out.printf(fmt, "step", "library ms", "shell ms", "lib/sh", "what is timed");
        for (Row r : rows) {
            System.out.printf(fmt, r.step(), num(r.libraryMs()), num(r.shellMs()), ratio(r), r.note());
        }
        System.out.println();
        for (String n : notes) {
            System.out.println("- " + n);
        }
    }

    private void writeCsv() throws IOException {
        StringBuilder sb = new StringBuilder("step,library_ms,shell_ms,ratio_library_over_shell,note\n");
        for (Row r : rows) {
            sb.append(csvField(r.step())).append(',').append(num(r.libraryMs())).append(',').append(num(r.shellMs()))
                    .append(',').append(ratio(r)).append(',').append(csvField(r.note())).append('\n');
        }
        Path parent = csv.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(csv, sb.toString());
    }

    private static String csvField(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }

    private static String num(double ms) {
        if (Double.isNaN(ms)) {
            return "-";
        }
        return ms < 10 ? String.format(Locale.ROOT, "%.2f", ms) : String.format(Locale.ROOT, "%.0f", ms);
    }

    private static String ratio(Row r) {
        if (Double.isNaN(r.libraryMs()) || Double.isNaN(r.shellMs()) || r.shellMs() == 0) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.2f", r.libraryMs() / r.shellMs());
    }

    private static double percentile(List<Double> sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    private static double median(List<Double> values) {
        List<Double> s = new ArrayList<>(values);
        s.sort(null);
        return percentile(s, 50);
    }

    private static double ms(Duration d) {
        return d.toNanos() / 1e6;
    }

    private static Connection connect(String url, String user, String password) throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }

    private static int freePort() {
        return FreePorts.pick(HOST);
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private static int positive(String[] args, int i, int min) {
        String v = value(args, i);
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(args[i - 1] + " needs a number, not '" + v + "'");
        }
        if (n < min) {
            throw new IllegalArgumentException(args[i - 1] + " must be at least " + min + ": " + n);
        }
        return n;
    }
}
