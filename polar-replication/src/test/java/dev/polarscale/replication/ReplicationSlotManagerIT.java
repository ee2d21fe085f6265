package dev.polarscale.replication;

import dev.polarscale.core.Command;
import dev.polarscale.core.Executors;
import dev.polarscale.core.Lsn;
import dev.polarscale.core.PgBinaries;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PolarException.Reason;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import dev.polarscale.replication.ReplicationSlotManager.DropOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link ReplicationSlotManager} against a real PostgreSQL 15 primary ({@code wal_level = logical}
 * so that a logical slot can take a name), with {@code pg_receivewal -S slot} as the real
 * walsender client of a slot. Each test drops the slots it made; the primary is shared by the
 * class.
 */
class ReplicationSlotManagerIT {
    private static final int MAX_SLOTS = 6;
    private static final long SEGMENT = 16L << 20;

    private static Path base;
    private static PostgresNode primary;
    private static Path receivewal;

    private final List<Receiver> receivers = new ArrayList<>();

    @BeforeAll
    static void startPrimary() throws IOException {
        base = Files.createTempDirectory("polarscale-slots-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        PgInstallation pg = PgBinaries.locate();
        primary = PostgresNode.builder().installation(pg).name("primary")
                .dataDirectory(base.resolve("primary")).port(Procs.freePort()).build();
        primary.initdb();
        primary.writeFile("postgresql.conf", primary.readFile("postgresql.conf")
                + "\nwal_level = logical\nmax_wal_senders = 8\nmax_replication_slots = " + MAX_SLOTS
                + "\nmax_slot_wal_keep_size = -1\n");
        primary.start();
        receivewal = pg.has("pg_receivewal") ? pg.tool("pg_receivewal")
                : Path.of("/usr/lib/postgresql/15/bin/pg_receivewal"); // the embedded binaries have none
    }

    @AfterAll
    static void stopPrimary() {
        try {
            if (primary != null) {
                primary.stop(PostgresNode.StopMode.IMMEDIATE);
                primary.deleteDataDirectory();
            }
        } finally {
            if (base != null) {
                Executors.local().run(Command.of("rm", "-rf", "--", base.toString()));
            }
        }
    }

    /** Stops the clients, drops every slot and resets the WAL limit, also after a failed test. */
    @AfterEach
    void dropEverything() throws SQLException {
        receivers.forEach(Receiver::close);
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE active");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_replication_slots WHERE active")) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        break;
                    }
                }
            }
            s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots");
            s.execute("ALTER SYSTEM RESET max_slot_wal_keep_size");
            s.execute("SELECT pg_reload_conf()");
        }
    }

    @Test
    void createReservesWalAtOnceAndIsIdempotent() {
        ReplicationSlotManager slots = manager();
        SlotName name = SlotName.of("idem1");
        assertEquals(Optional.empty(), slots.get(name));

        SlotInfo first = slots.create(name);
        assertEquals(name, first.name());
        assertTrue(first.physical());
        assertFalse(first.active());
        assertEquals(OptionalLong.empty(), first.activePid());
        assertTrue(first.restartLsn().isValid(), "WAL is reserved at creation, before any walsender: " + first);
        assertEquals("reserved", first.walStatus());

        SlotInfo second = slots.create(name);
        assertEquals(first.name(), second.name());
        assertEquals(first.restartLsn(), second.restartLsn(), "the second create returns the same slot");
        assertEquals(1, slots.list().stream().filter(s -> s.name().equals(name)).count());
        assertEquals(first.restartLsn(), serverRestartLsn("idem1"), "what the server has");
        assertTrue(slots.drop(name, DropOptions.refuseActive()));
        assertFalse(slots.drop(name, DropOptions.refuseActive()), "a missing slot: nothing to drop");
    }

    @Test
    void aLogicalSlotOfThatNameIsRefused() throws SQLException {
        sql("SELECT pg_create_logical_replication_slot('logical1', 'test_decoding')");
        ReplicationSlotManager slots = manager();
        SlotName name = SlotName.of("logical1");
        assertFalse(slots.get(name).orElseThrow().physical());

        ReplicationException e = assertThrows(ReplicationException.class, () -> slots.create(name));
        assertEquals(Reason.SLOT_EXISTS, e.reason());
        assertTrue(e.getMessage().contains("logical1") && e.getMessage().contains("logical slot"), e.getMessage());
        assertEquals(Optional.empty(), e.sqlState(), "refused on this side: no server SQLSTATE");
        assertEquals(Optional.of("primary"), e.node());
        assertFalse(slots.get(name).orElseThrow().physical(), "the logical slot is left as it was");
    }

    @Test
    void dropOfAnActiveSlotIsRefusedUnlessTheWalSenderIsTerminated() throws Exception {
        ReplicationSlotManager slots = manager();
        SlotName name = SlotName.of("busy1");
        slots.create(name);
        Receiver client = receive(name);
        SlotInfo active = slots.awaitActive(name, Duration.ofSeconds(30));
        long pid = active.activePid().orElseThrow();
        assertEquals("pg_receivewal", walSenderApplication(pid), "the slot's user is a real walsender");

        ReplicationException refused = assertThrows(ReplicationException.class,
                () -> slots.drop(name, DropOptions.refuseActive()));
        assertEquals(Reason.SLOT_ACTIVE, refused.reason());
        assertEquals(Optional.of("55006"), refused.sqlState(), "the server refused: " + refused.getMessage());
        assertTrue(refused.getMessage().contains("PID " + pid), refused.getMessage());
        assertTrue(slots.get(name).orElseThrow().active(), "still there and still streaming");

        long t0 = System.nanoTime();
        assertTrue(slots.drop(name, DropOptions.terminateWalSender(Duration.ofSeconds(10))));
        assertEquals(Optional.empty(), slots.get(name));
        assertTrue(millisSince(t0) < 10_000, "dropped in " + millisSince(t0) + " ms");
        assertTrue(client.process.waitFor(10, TimeUnit.SECONDS), "pg_receivewal --no-loop ends with its walsender");
    }

    @Test
    void waitUntilInactiveDropsOnceTheClientStops() throws Exception {
        ReplicationSlotManager slots = manager();
        SlotName name = SlotName.of("stopping1");
        slots.create(name);
        Receiver client = receive(name);
        long pid = slots.awaitActive(name, Duration.ofSeconds(30)).activePid().orElseThrow();

        // still streaming at the deadline: refused on this side, naming the PID, no SQLSTATE
        long t0 = System.nanoTime();
        ReplicationException timedOut = assertThrows(ReplicationException.class,
                () -> slots.drop(name, DropOptions.waitUntilInactive(Duration.ofMillis(400))));
        long took = millisSince(t0);
        assertEquals(Reason.SLOT_ACTIVE, timedOut.reason());
        assertEquals(Optional.empty(), timedOut.sqlState(), timedOut.getMessage());
        assertTrue(timedOut.getMessage().contains("pid " + pid), timedOut.getMessage());
        assertTrue(took >= 400 && took < 5_000, "gave up after " + took + " ms");
        assertTrue(slots.get(name).isPresent());

        // the client stops while drop waits: the drop goes through
        CompletableFuture<Void> stop = CompletableFuture.runAsync(() -> {
            sleep(700);
            client.close();
        });
        t0 = System.nanoTime();
        assertTrue(slots.drop(name, DropOptions.waitUntilInactive(Duration.ofSeconds(20))));
        took = millisSince(t0);
        stop.get(30, TimeUnit.SECONDS);
        assertTrue(took >= 500, "drop waited for the client to stop, took " + took + " ms");
        assertEquals(Optional.empty(), slots.get(name));
        slots.awaitInactive(name, Duration.ZERO); // a missing slot counts as inactive
    }

    @Test
    void awaitDeadlinesAreBoundedAndTyped() throws Exception {
        ReplicationSlotManager slots = manager();
        SlotName idle = SlotName.of("idle1");
        slots.create(idle);

        long t0 = System.nanoTime();
        ReplicationException notStreaming = assertThrows(ReplicationException.class,
                () -> slots.awaitActive(idle, Duration.ofMillis(300)));
        long took = millisSince(t0);
        assertEquals(Reason.NOT_STREAMING, notStreaming.reason());
        assertEquals(Optional.empty(), notStreaming.sqlState(), "a deadline passed on this side");
        assertTrue(notStreaming.getMessage().contains("idle1") && notStreaming.getMessage().contains("inactive"),
                notStreaming.getMessage());
        assertTrue(took >= 300 && took < 5_000, "gave up after " + took + " ms");

        ReplicationException missing = assertThrows(ReplicationException.class,
                () -> slots.awaitActive(SlotName.of("nosuch1"), Duration.ofMillis(100)));
        assertEquals(Reason.NOT_STREAMING, missing.reason());
        assertTrue(missing.getMessage().contains("missing"), missing.getMessage());

        slots.awaitInactive(idle, Duration.ofMillis(100)); // inactive already: returns at once
        receive(idle);
        slots.awaitActive(idle, Duration.ofSeconds(30));
        t0 = System.nanoTime();
        ReplicationException stillActive = assertThrows(ReplicationException.class,
                () -> slots.awaitInactive(idle, Duration.ofMillis(300)));
        took = millisSince(t0);
        assertEquals(Reason.SLOT_ACTIVE, stillActive.reason());
        assertEquals(Optional.empty(), stillActive.sqlState());
        assertTrue(took >= 300 && took < 5_000, "gave up after " + took + " ms");

        assertThrows(IllegalArgumentException.class, () -> slots.awaitActive(idle, Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> slots.inactiveRetainingMoreThan(-1));
    }

    @Test
    void listShowsWalStatusAndRetainedBytesAndFindsTheIdleSlotThatRetains() throws Exception {
        ReplicationSlotManager slots = manager();
        SlotName idleBig = SlotName.of("idle_big");
        SlotName streaming = SlotName.of("streaming1");
        slots.create(idleBig);
        slots.create(streaming);
        receive(streaming);
        slots.awaitActive(streaming, Duration.ofSeconds(30));
        long before = slots.get(idleBig).orElseThrow().retainedBytes();

        // WAL the idle slot does not consume: two segment switches after writes move the insert
        // position at least one full segment past the slot's restart_lsn
        sql("CREATE TABLE filler(id int, pad text)");
        for (int i = 0; i < 2; i++) {
            sql("INSERT INTO filler SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g");
            sql("SELECT pg_switch_wal()");
        }
        sql("CHECKPOINT"); // a physical slot reserves from the last redo point: keep idle_small's small
        SlotName idleSmall = SlotName.of("idle_small");
        slots.create(idleSmall);
        awaitStreamedPastCurrentSegment(slots, streaming);

        List<SlotInfo> all = slots.list();
        assertEquals(List.of("idle_big", "idle_small", "streaming1"),
                all.stream().map(s -> s.name().value()).toList(), "ordered by name");
        SlotInfo big = slots.get(idleBig).orElseThrow();
        assertTrue(big.retainedBytes() >= SEGMENT, "idle_big keeps at least a segment: " + big);
        assertTrue(big.retainedBytes() > before, "grew from " + before + ": " + big);
        assertEquals(serverRetained("idle_big"), big.retainedBytes(), 1 << 20);
        SlotInfo small = slots.get(idleSmall).orElseThrow();
        assertTrue(small.retainedBytes() < SEGMENT / 2, small.toString());
        for (SlotInfo s : all) {
            assertEquals("reserved", s.walStatus(), s.toString());
            assertTrue(s.restartLsn().isValid(), s.toString());
        }
        SlotInfo stream = slots.get(streaming).orElseThrow();
        assertTrue(stream.active());
        assertTrue(stream.restartLsn().compareTo(big.restartLsn()) > 0, "the streamed slot moved on: " + stream);

        List<SlotInfo> found = slots.inactiveRetainingMoreThan(SEGMENT / 2);
        assertEquals(List.of(idleBig), found.stream().map(SlotInfo::name).toList(),
                "only the idle slot that retains more than 8 MiB: " + all);
        assertEquals(List.of(), slots.inactiveRetainingMoreThan(big.retainedBytes() + (1L << 30)));
    }

    @Test
    void createBeyondMaxReplicationSlotsIsNoFreeSlotWithTheServersSqlState() {
        ReplicationSlotManager slots = manager();
        for (int i = slots.list().size(); i < MAX_SLOTS; i++) {
            slots.create(SlotName.of("full" + i));
        }
        ReplicationException e = assertThrows(ReplicationException.class, () -> slots.create(SlotName.of("onetoomany")));
        assertEquals(Reason.NO_FREE_SLOT, e.reason());
        assertEquals(Optional.of("53400"), e.sqlState(), e.getMessage());
        assertTrue(e.getMessage().contains("onetoomany") && e.getMessage().contains("max_replication_slots"),
                e.getMessage());
        assertEquals(MAX_SLOTS, slots.list().size());
    }

    @Test
    void anUnreachablePrimaryIsServerUnreachableWithoutSqlState() {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl("jdbc:postgresql://127.0.0.1:" + Procs.freePort() + "/postgres");
        ds.setUser("postgres");
        ds.setPassword(primary.password());
        ds.setConnectTimeout(5);
        ReplicationSlotManager slots = new ReplicationSlotManager("gone", ds);
        ReplicationException e = assertThrows(ReplicationException.class, slots::list);
        assertEquals(Reason.SERVER_UNREACHABLE, e.reason());
        assertEquals(Optional.empty(), e.sqlState(), "the driver's 08001 is not a server's SQLSTATE");
        assertThrows(ReplicationException.class, slots::walKeepLimit);
        ReplicationException create = assertThrows(ReplicationException.class, () -> slots.create(SlotName.of("x1")));
        assertEquals(Reason.SERVER_UNREACHABLE, create.reason());
    }

    @Test
    void anUnlimitedWalKeepSizeIsReportedAndWarnedOnceOnTheFirstCreate() {
        PGSimpleDataSource ds = dataSource();
        ReplicationSlotManager slots = new ReplicationSlotManager("primary", ds);
        assertEquals(OptionalLong.empty(), slots.walKeepLimit(), "max_slot_wal_keep_size = -1");
        String log = stderrDuring(() -> slots.create(SlotName.of("warn1")));
        List<String> warnings = walKeepWarnings(log);
        assertEquals(1, warnings.size(), log);
        assertTrue(warnings.get(0).contains("WARN") && warnings.get(0).contains("primary - ")
                && warnings.get(0).contains("max_slot_wal_keep_size"), warnings.get(0));
        assertEquals(List.of(), walKeepWarnings(stderrDuring(() -> slots.create(SlotName.of("warn2")))),
                "checked once");
        ReplicationSlotManager again = new ReplicationSlotManager("primary", ds);
        assertEquals(List.of(), walKeepWarnings(stderrDuring(() -> again.create(SlotName.of("warn3")))),
                "once per data source, not per manager");
    }

    @Test
    void aLimitedWalKeepSizeIsReportedAndNotWarned() throws SQLException {
        sql("ALTER SYSTEM SET max_slot_wal_keep_size = '1GB'");
        sql("SELECT pg_reload_conf()");
        ReplicationSlotManager slots = manager();
        awaitLimit(slots, OptionalLong.of(1L << 30));
        String log = stderrDuring(() -> slots.create(SlotName.of("nowarn1")));
        assertEquals(List.of(), walKeepWarnings(log), log);
        assertTrue(slots.get(SlotName.of("nowarn1")).isPresent());
    }

    // ------------------------------------------------------------------ helpers

    /** A manager over a fresh data source (the WAL-limit check runs once per data source). */
    private static ReplicationSlotManager manager() {
        return new ReplicationSlotManager("primary", dataSource());
    }

    private static PGSimpleDataSource dataSource() {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(primary.jdbcUrl());
        ds.setUser(primary.superuser());
        ds.setPassword(primary.password());
        return ds;
    }

    /** {@code pg_receivewal -S slot --no-loop}: a real walsender client of the slot. */
    private Receiver receive(SlotName slot) throws IOException {
        assumeTrue(Files.isExecutable(receivewal), "no pg_receivewal at " + receivewal
                + " (install postgresql-client-15; the embedded binaries have none)");
        Path dir = Files.createTempDirectory(base, "wal-" + slot.value() + "-");
        Path log = base.resolve(dir.getFileName() + ".log");
        ProcessBuilder pb = new ProcessBuilder(receivewal.toString(), "-h", "127.0.0.1",
                "-p", Integer.toString(primary.port().value()), "-U", primary.superuser(), "-w",
                "-S", slot.value(), "-D", dir.toString(), "--no-loop", "--synchronous", "-s", "1")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("PGPASSWORD", primary.password());
        Receiver r = new Receiver(pb.start(), log);
        receivers.add(r);
        return r;
    }

    private static final class Receiver implements AutoCloseable {
        final Process process;
        final Path log;

        Receiver(Process process, Path log) {
            this.process = process;
            this.log = log;
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits until the streaming slot's restart_lsn is in the primary's current segment. */
    private static void awaitStreamedPastCurrentSegment(ReplicationSlotManager slots, SlotName slot) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (slots.get(slot).orElseThrow().retainedBytes() >= SEGMENT && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
    }

    private static void awaitLimit(ReplicationSlotManager slots, OptionalLong expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!slots.walKeepLimit().equals(expected) && System.nanoTime() < deadline) {
            sleep(50);
        }
        assertEquals(expected, slots.walKeepLimit(), "after pg_reload_conf()");
    }

    private static List<String> walKeepWarnings(String log) {
        return log.lines().filter(l -> l.contains("max_slot_wal_keep_size is -1")).toList();
    }

    /** What slf4j-simple (the test binding, writing to the current System.err) logs while {@code r} runs. */
    private static String stderrDuring(Runnable r) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        OutputStream tee = new OutputStream() {
            @Override
            public void write(int b) {
                buf.write(b);
                old.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                buf.write(b, off, len);
                old.write(b, off, len);
            }
        };
        System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.err.flush();
            System.setErr(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    private static Lsn serverRestartLsn(String slot) {
        return Lsn.parse(query("SELECT restart_lsn::text FROM pg_replication_slots WHERE slot_name = ?", slot));
    }

    private static long serverRetained(String slot) {
        return Long.parseLong(query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint "
                + "FROM pg_replication_slots WHERE slot_name = ?", slot));
    }

    private static String walSenderApplication(long pid) {
        return query("SELECT application_name FROM pg_stat_replication WHERE pid = ?::int", Long.toString(pid));
    }

    private static String query(String sql, String param) {
        try (Connection c = primary.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "no row for " + sql + " with " + param);
                return rs.getString(1);
            }
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static void sql(String sql) throws SQLException {
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
