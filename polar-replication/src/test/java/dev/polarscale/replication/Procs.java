package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;
import dev.polarscale.core.NodeState;
import dev.polarscale.core.PostgresNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

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

    /**
     * SIGKILL of the postmaster whose PID is in {@code postmaster.pid}, and of its children. The
     * server's dynamic shared memory segments ({@code /dev/shm/PostgreSQL.*}) are unlinked afterwards:
     * a SIGKILLed server cannot remove them, and a node the scaler then deletes is never restarted to
     * clean them up (PostgreSQL tolerates a missing segment when it does restart). They are the
     * control segment the postmaster maps and every segment that control segment lists, which
     * includes pinned segments no live process maps (the 1 MB areas of the statistics system).
     */
    static void killPostmaster(Path dataDirectory) {
        try {
            // The postmaster and its children at once, like a crashed host: a backend outlives a
            // SIGKILLed postmaster until it notices, and may still commit a statement meanwhile.
            String pid = Files.readAllLines(dataDirectory.resolve("postmaster.pid")).get(0).strip();
            List<String> victims = new ArrayList<>(List.of("kill", "-KILL", pid));
            Executors.local().execute(Command.of("pgrep", "-P", pid)).stdout().lines()
                    .map(String::strip).filter(l -> !l.isEmpty()).forEach(victims::add);
            Executors.local().run(Command.of("kill", "-STOP", pid));
            Set<Path> segments = new TreeSet<>();
            victims.subList(2, victims.size()).forEach(v -> segments.addAll(sharedMemorySegments(v)));
            for (Path mapped : Set.copyOf(segments)) {
                segments.addAll(listedIn(mapped));
            }
            Executors.local().execute(Command.of(victims));
            for (Path segment : segments) {
                Files.deleteIfExists(segment);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** PG_DYNSHMEM_CONTROL_MAGIC of PostgreSQL's {@code dsm.c}. */
    private static final int DSM_CONTROL_MAGIC = 0x9a503d32;

    /**
     * The segments a DSM control segment lists as in use, or none when {@code file} is not one.
     * PostgreSQL 15's {@code dsm_control_header}: magic, nitems, maxitems (uint32 each), then from
     * offset 16 items of 40 bytes (handle and refcnt as uint32, then sizes, a pointer and a flag),
     * native byte order. A handle with the low bit set lives in the main shared memory, not a file.
     */
    private static Set<Path> listedIn(Path file) {
        Set<Path> out = new TreeSet<>();
        try {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(Files.readAllBytes(file))
                    .order(java.nio.ByteOrder.nativeOrder());
            if (b.remaining() < 16 || b.getInt(0) != DSM_CONTROL_MAGIC) {
                return out;
            }
            long items = Integer.toUnsignedLong(b.getInt(4));
            for (long i = 0; i < items && 16 + (i + 1) * 40 <= b.limit(); i++) {
                int at = (int) (16 + i * 40);
                long handle = Integer.toUnsignedLong(b.getInt(at));
                long refcnt = Integer.toUnsignedLong(b.getInt(at + 4));
                if (refcnt > 0 && (handle & 1) == 0) {
                    out.add(Path.of("/dev/shm/PostgreSQL." + handle));
                }
            }
        } catch (IOException gone) {
            // nothing to read: nothing listed
        }
        return out;
    }

    /** The {@code /dev/shm/PostgreSQL.*} files a process maps, from {@code /proc/<pid>/maps}. */
    private static Set<Path> sharedMemorySegments(String pid) {
        Set<Path> out = new TreeSet<>();
        try (BufferedReader maps = Files.newBufferedReader(Path.of("/proc", pid, "maps"))) {
            for (String line = maps.readLine(); line != null; line = maps.readLine()) {
                int at = line.indexOf("/dev/shm/PostgreSQL.");
                if (at >= 0) {
                    out.add(Path.of(line.substring(at).replace(" (deleted)", "").strip()));
                }
            }
        } catch (IOException gone) {
            // the process has exited: it maps nothing
        }
        return out;
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
