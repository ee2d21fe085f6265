package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;
import dev.polarscale.core.NodeState;
import dev.polarscale.core.PostgresNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.ArrayList;

/** Helpers of this module's ITs: free ports, waiting for replicated rows, killing a postmaster, survivors. */
final class Procs {
    private Procs() {
    }

    /**
     * Runs a {@code count(*)} query on a follower until it returns {@code expected} or the timeout
     * passes, and returns the last count; a table not replayed yet (42P01) counts as "not yet".
     */
    static long awaitCount(Connection c, String sql, long expected, Duration timeout) throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Statement s = c.createStatement()) {
            while (true) {
                try (ResultSet rs = s.executeQuery(sql)) {
                    rs.next();
                    long n = rs.getLong(1);
                    if (n == expected || System.nanoTime() > deadline) {
                        return n;
                    }
                } catch (SQLException e) {
                    if (!"42P01".equals(e.getSQLState()) || System.nanoTime() > deadline) {
                        throw e;
                    }
                }
            }
        }
    }

    static int freePort() {
        return dev.polarscale.core.FreePorts.pick("127.0.0.1");
    }

    /** SIGKILL of the postmaster whose PID is in {@code postmaster.pid}. */
    static void killPostmaster(Path dataDirectory) {
        try {
            // The postmaster and its children at once, like a crashed host: a backend outlives a
            // SIGKILLed postmaster until it notices, and may still commit a statement meanwhile.
            String pid = Files.readAllLines(dataDirectory.resolve("postmaster.pid")).get(0).strip();
            List<String> victims = new ArrayList<>(List.of("kill", "-KILL", pid));
            Executors.local().execute(Command.of("pgrep", "-P", pid)).stdout().lines()
                    .map(String::strip).filter(l -> !l.isEmpty()).forEach(victims::add);
            Executors.local().run(Command.of("kill", "-STOP", pid));
            Executors.local().execute(Command.of(victims));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The output of {@code pgrep -af <text>}: empty when no process mentions it. */
    static String pgrep(String text) {
        CommandResult r = Executors.local().execute(Command.of("pgrep", "-af", "--", text)
                .withTimeout(Duration.ofSeconds(10)));
        return r.stdout().strip();
    }

    /** Waits (up to 15 s) until no process mentions the text; returns what is left. */
    static String awaitNoProcess(String text) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        String left = pgrep(text);
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
            left = pgrep(text);
        }
        return left;
    }

    /** Starts a killed primary again; retries while the old children still hold its shared memory. */
    static void restart(PostgresNode primary) throws InterruptedException {
        awaitNoProcess(primary.dataDirectory().toString() + " ");
        RuntimeException last = null;
        for (int i = 0; i < 20; i++) {
            try {
                primary.start();
                return;
            } catch (RuntimeException e) {
                last = e;
                Thread.sleep(250);
            }
        }
        throw last;
    }

    static boolean running(PostgresNode node) {
        return node.status() == NodeState.RUNNING;
    }
}
