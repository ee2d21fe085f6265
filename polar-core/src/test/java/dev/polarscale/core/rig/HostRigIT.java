package dev.polarscale.core.rig;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.SshException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The multi-host rig on this machine: two hosts, each reached over SSH at its own address with
 * its own hostname, /tmp, processes and data directory, a directory they share, a network
 * between them and nowhere else, hosts that can be killed, cut off and restarted, and a teardown
 * that leaves nothing behind.
 */
class HostRigIT {
    private static HostRig rig;
    private static RigHost h0;
    private static RigHost h1;

    @BeforeAll
    static void startRig() {
        long t0 = System.nanoTime();
        rig = HostRig.start(2);
        System.out.printf("rig %d with 2 hosts started in %d ms%n", rig.id(), millisSince(t0));
        h0 = rig.host(0);
        h1 = rig.host(1);
    }

    @AfterAll
    static void closeRig() {
        if (rig != null) {
            rig.close();
        }
    }

    @Test
    void eachHostHasItsOwnAddressAndHostnameOverSsh() {
        for (RigHost h : rig.hosts()) {
            try (CommandExecutor ssh = h.ssh()) {
                assertEquals(h.name() + "\n", ssh.run(Command.of("hostname")).stdout());
                assertEquals(h.address(), ssh.run(Command.of("hostname", "-I")).stdout().strip());
                String addrs = ssh.run(Command.of("ip", "-4", "-o", "addr", "show")).stdout();
                assertTrue(addrs.contains(" " + h.address() + "/24 "), addrs);
                assertFalse(addrs.contains(rig.controlAddress() + "/"), addrs);
                // no default route: whatever a host sends stays on the rig's bridge
                assertEquals(rig.subnet(), ssh.run(Command.of("ip", "-4", "route", "show")).stdout().split(" ")[0]);
                assertEquals(1, ssh.run(Command.of("ip", "-4", "route", "show")).stdout().strip().lines().count());
                // its own process table, with sshd as PID 1
                assertEquals("sshd\n", ssh.run(Command.of("cat", "/proc/1/comm")).stdout());
                // the SSH session of a client at the control address
                assertTrue(ssh.run(Command.of("sh", "-c", "echo $SSH_CONNECTION")).stdout()
                        .startsWith(rig.controlAddress() + " "));
            }
        }
    }

    @Test
    void tmpAndDataDirectoryArePrivateToEachHost() throws IOException {
        String marker = "rig-private-" + System.nanoTime();
        try (CommandExecutor a = h0.ssh(); CommandExecutor b = h1.ssh()) {
            a.run(Command.of("sh", "-c", "echo a > /tmp/$0 && echo a > " + HostRig.DATA_DIR + "/$0", marker));
            assertEquals("a\n", a.run(Command.of("cat", "/tmp/" + marker)).stdout());
            assertEquals(1, b.execute(Command.of("test", "-e", "/tmp/" + marker)).exitCode(), "h1 sees h0's /tmp");
            assertEquals(1, b.execute(Command.of("test", "-e", HostRig.DATA_DIR + "/" + marker)).exitCode(),
                    "h1 sees h0's data directory");
            assertFalse(Files.exists(Path.of("/tmp", marker)), "the control namespace sees h0's /tmp");
            assertFalse(Files.exists(HostRig.DATA_DIR.resolve(marker)), "the control namespace sees h0's /srv");
            // the rig's own files (other hosts' data, keys) are out of sight in a host
            assertEquals(1, b.execute(Command.of("test", "-e", HostRig.STATE_ROOT.toString())).exitCode());
            a.run(Command.of("rm", "-f", "/tmp/" + marker, HostRig.DATA_DIR + "/" + marker));
        }
    }

    @Test
    void theSharedDirectoryIsSharedByAllHosts() {
        String marker = "rig-shared-" + System.nanoTime();
        try (CommandExecutor a = h0.ssh(); CommandExecutor b = h1.ssh()) {
            a.run(Command.of("sh", "-c", "echo from-h0 > " + HostRig.SHARED_DIR + "/$0", marker));
            assertEquals("from-h0\n", b.run(Command.of("cat", HostRig.SHARED_DIR + "/" + marker)).stdout());
            b.run(Command.of("rm", HostRig.SHARED_DIR + "/" + marker));
            assertEquals(1, a.execute(Command.of("test", "-e", HostRig.SHARED_DIR + "/" + marker)).exitCode());
        }
    }

    @Test
    void hostsReachEachOtherByAddressAndName() {
        for (String target : List.of(h1.address(), h1.name())) {
            CommandResult r = h0.exec("bash", "-c", "read -r banner < /dev/tcp/$0/22 && echo \"$banner\"", target);
            assertEquals(0, r.exitCode(), r.stderr());
            assertTrue(r.stdout().startsWith("SSH-2.0-OpenSSH"), r.stdout());
        }
    }

    @Test
    void serverBinariesAreVisibleInHostsAndHiddenFromTheControlPrefix() {
        Path postgres = Path.of("/usr/lib/postgresql/15/bin/postgres");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(postgres), "needs PostgreSQL 15 at " + postgres);
        List<String> test = List.of("sh", "-c", "test -e \"$0\"", postgres.toString());
        assertEquals(0, h0.exec(test).exitCode(), "a host sees the PostgreSQL binaries");
        List<String> hidden = new ArrayList<>(rig.withoutServerBinaries());
        hidden.addAll(test);
        CommandResult r = Executors.local().execute(Command.of(hidden).withTimeout(Duration.ofSeconds(30)));
        assertEquals(1, r.exitCode(), "the binaries are visible under withoutServerBinaries(): " + r);
        // ... and that namespace still reaches the hosts
        List<String> reach = new ArrayList<>(rig.withoutServerBinaries());
        reach.addAll(List.of("bash", "-c", "read -r banner < /dev/tcp/$0/22 && echo \"$banner\"", h0.address()));
        assertTrue(Executors.local().run(Command.of(reach).withTimeout(Duration.ofSeconds(30))).stdout()
                .startsWith("SSH-2.0-OpenSSH"));
        assertTrue(Files.isExecutable(postgres), "the control JVM's own view is unchanged");
    }

    /** POLARDB_HOME (set by CI) is visible in the hosts, at its own path, and hidden by the control prefix. */
    @Test
    void polarDbIsVisibleInHostsAndHiddenFromTheControlPrefix() {
        String home = System.getenv("POLARDB_HOME");
        org.junit.jupiter.api.Assumptions.assumeTrue(home != null && Files.isDirectory(Path.of(home)),
                "POLARDB_HOME names no PolarDB installation");
        List<String> test = List.of("test", "-x", home + "/bin/postgres");
        assertEquals(0, h1.exec(test).exitCode(), "a host sees " + home);
        List<String> hidden = new ArrayList<>(rig.withoutServerBinaries());
        hidden.addAll(test);
        assertEquals(1, Executors.local().execute(Command.of(hidden).withTimeout(Duration.ofSeconds(30))).exitCode());
    }

    /** A directory below /tmp (as CI's POLARDB_HOME may be) stays visible in the hosts when asked; the rest of /tmp does not. */
    @Test
    void aDirectoryBelowTmpStaysVisibleWhenAsked() throws IOException {
        Path keep = Files.createTempDirectory("rig-keep");
        Path other = Files.createTempDirectory("rig-other");
        try {
            Files.writeString(keep.resolve("tool"), "x");
            try (HostRig own = HostRig.builder().hosts(1).withoutSharedDirectory().visibleInHosts(keep).start()) {
                RigHost h = own.host(0);
                assertEquals(0, h.exec("test", "-f", keep.resolve("tool").toString()).exitCode());
                assertEquals(1, h.exec("test", "-e", other.toString()).exitCode());
                assertEquals("", h.exec("ls", "-A", HostRig.SHARED_DIR.toString()).stdout(), "no shared directory");
            }
        } finally {
            Files.deleteIfExists(keep.resolve("tool"));
            Files.deleteIfExists(keep);
            Files.deleteIfExists(other);
        }
    }

    /**
     * A killed host drops its sessions (CONNECTION_LOST), refuses new ones at once
     * (HOST_UNREACHABLE), and after a restart has a fresh /tmp but the same data and host key.
     */
    @Test
    void aKilledHostRefusesConnectionsAndRestartsFresh() throws Exception {
        String marker = "rig-kill-" + System.nanoTime();
        try (CommandExecutor ssh = Executors.ssh(h1.sshTargetBuilder().connectTimeout(Duration.ofSeconds(3)).build())) {
            ssh.run(Command.of("sh", "-c", "touch /tmp/$0 " + HostRig.DATA_DIR + "/$0", marker));
            // a daemon outside the session, as a server started by pg_ctl would be
            ssh.run(Command.of("sh", "-c", "setsid sleep 1000 </dev/null >/dev/null 2>&1 &"));
            CompletableFuture<CommandResult> running = CompletableFuture.supplyAsync(
                    () -> ssh.execute(Command.of("sleep", "60").withTimeout(Duration.ofSeconds(90))));
            Thread.sleep(300);
            long t0 = System.nanoTime();
            rig.kill(h1);
            ExecutionException lost = assertThrows(ExecutionException.class, () -> running.get(20, TimeUnit.SECONDS));
            SshException cause = assertInstanceOf(SshException.class, lost.getCause());
            assertEquals(PolarException.Reason.CONNECTION_LOST, cause.reason(), cause.getMessage());
            System.out.printf("kill: running command failed with %s after %d ms%n", cause.reason(), millisSince(t0));
            assertFalse(h1.isRunning());

            long t1 = System.nanoTime();
            SshException refused = assertThrows(SshException.class, () -> ssh.run(Command.of("true")));
            long refusedMs = millisSince(t1);
            assertEquals(PolarException.Reason.HOST_UNREACHABLE, refused.reason(), refused.getMessage());
            assertTrue(refused.getMessage().startsWith(h1.address() + ":22 - cannot connect"), refused.getMessage());
            assertTrue(refusedMs < 3000, "refused after " + refusedMs + " ms");
            System.out.printf("kill: new connection refused (%s) in %d ms%n", refused.reason(), refusedMs);

            rig.restart(h1);
            assertEquals(1, ssh.execute(Command.of("test", "-e", "/tmp/" + marker)).exitCode(), "/tmp survived");
            ssh.run(Command.of("test", "-e", HostRig.DATA_DIR + "/" + marker));
            assertEquals(1, ssh.execute(Command.of("pgrep", "-x", "sleep")).exitCode(), "a process survived");
            ssh.run(Command.of("rm", HostRig.DATA_DIR + "/" + marker));
        }
    }

    /** A host cut off from the network: connections time out instead of being refused. */
    @Test
    void aDisconnectedHostTimesOut() {
        try (CommandExecutor ssh = Executors.ssh(h0.sshTargetBuilder().connectTimeout(Duration.ofSeconds(2)).build())) {
            rig.disconnect(h0);
            try {
                long t0 = System.nanoTime();
                SshException e = assertThrows(SshException.class, () -> ssh.run(Command.of("true")));
                long ms = millisSince(t0);
                assertEquals(PolarException.Reason.HOST_UNREACHABLE, e.reason(), e.getMessage());
                assertTrue(ms >= 1500 && ms < 6000, "failed after " + ms + " ms: " + e.getMessage());
                System.out.printf("disconnect: %s after %d ms: %s%n", e.reason(), ms, e.getMessage());
            } finally {
                rig.reconnect(h0);
            }
            assertEquals("h0\n", ssh.run(Command.of("hostname")).stdout());
        }
    }

    @Test
    void hostsAreReachedOnlyWithTheirKnownHostKey() throws IOException {
        Path other = Files.createTempFile("rig-known-hosts", "");
        try {
            // h1's key recorded for h0's address: a changed key, rejected
            Files.writeString(other, h1.knownHostsLine().replace(h1.address(), h0.address()) + "\n");
            try (CommandExecutor ssh = Executors.ssh(h0.sshTargetBuilder().knownHostsFile(other).build())) {
                SshException e = assertThrows(SshException.class, () -> ssh.run(Command.of("true")));
                assertEquals(PolarException.Reason.HOST_KEY_REJECTED, e.reason(), e.getMessage());
                assertTrue(e.getMessage().contains("DIFFERS"), e.getMessage());
            }
        } finally {
            Files.delete(other);
        }
    }

    /**
     * close() on a rig whose host runs a daemon: afterwards no process is left in any of its
     * namespaces, and no namespace, veth, bridge, mount or file of it remains. A second close is
     * harmless.
     */
    @Test
    void closeLeavesNothingBehind() throws Exception {
        HostRig own = HostRig.builder().hosts(1).start();
        RigHost h = own.host(0);
        String netns = h.netns();
        String bridge = HostRig.NAME_PREFIX + own.id();
        Path dir = HostRig.STATE_ROOT.resolve("r" + own.id());
        List<String> namespaces;
        Set<ProcessHandle> inside = new HashSet<>();
        try {
            try (CommandExecutor ssh = h.ssh()) {
                ssh.run(Command.of("sh", "-c", "setsid sleep 1000 </dev/null >/dev/null 2>&1 &"));
            }
            namespaces = new ArrayList<>(own.namespaces());
            assertEquals(5, namespaces.size(), namespaces.toString());
            for (String ns : namespaces) {
                String[] kindInode = ns.split(":");
                HostRig.processesIn(kindInode[0], Long.parseLong(kindInode[1]))
                        .forEach(pid -> ProcessHandle.of(pid).ifPresent(inside::add));
            }
            assertTrue(inside.size() >= 3, "sshd, its session and the daemon: " + inside);
            assertTrue(ipNames("netns", "list").contains(netns));
            assertTrue(ipNames("-o", "link", "show").containsAll(List.of(netns, bridge)));
        } finally {
            long t0 = System.nanoTime();
            own.close();
            System.out.printf("close of a 1-host rig: %d ms%n", millisSince(t0));
        }
        own.close();

        // every process that was in the host's namespaces is gone (ProcessHandle.isAlive also checks
        // the start time, so a reused PID does not count; namespace inode numbers are reused too)
        assertEquals(List.of(), inside.stream().filter(ProcessHandle::isAlive).map(HostRigIT::describe).toList(),
                "processes left of the rig's host");
        assertFalse(ipNames("netns", "list").contains(netns), "network namespace left");
        List<String> links = ipNames("-o", "link", "show");
        assertFalse(links.contains(bridge) || links.contains(netns), "bridge or veth left: " + links);
        assertFalse(Files.exists(dir), "state directory left");
        String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
        assertFalse(mounts.contains(netns) || mounts.contains(dir.toString()), "mount left:\n" + mounts);
        assertFalse(h.isRunning());
    }

    /** What a JVM killed with -9 leaves (a state directory with a dead owner, namespaces with processes) is removed by the next start. */
    @Test
    void aStaleRigOfADeadJvmIsRemoved() throws Exception {
        int id = -1;
        for (int n = 254; n > 0; n--) {
            Path d = HostRig.STATE_ROOT.resolve("r" + n);
            if (!ipNames("-o", "link", "show").contains(HostRig.NAME_PREFIX + n)) {
                try {
                    Files.createDirectories(HostRig.STATE_ROOT);
                    Files.createDirectory(d);
                    id = n;
                    break;
                } catch (java.nio.file.FileAlreadyExistsException taken) {
                    // in use
                }
            }
        }
        assertTrue(id > 0);
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        Path dir = HostRig.STATE_ROOT.resolve("r" + id);
        Files.writeString(dir.resolve("owner"), dead.pid() + " 0\n");
        String bridge = HostRig.NAME_PREFIX + id;
        String netns = bridge + "h0";
        run("ip", "link", "add", bridge, "type", "bridge");
        run("ip", "netns", "add", netns);
        run("ip", "link", "add", netns, "type", "veth", "peer", "name", "eth0", "netns", netns);
        Process orphan = new ProcessBuilder("ip", "netns", "exec", netns, "sleep", "1000").start();

        HostRig.reapStale();

        assertTrue(orphan.waitFor(10, TimeUnit.SECONDS), "the stale rig's process survived");
        assertFalse(ipNames("netns", "list").contains(netns));
        List<String> links = ipNames("-o", "link", "show");
        assertFalse(links.contains(bridge) || links.contains(netns), links.toString());
        assertFalse(Files.exists(dir));
    }

    /** Names from {@code ip netns list} (first word of a line) or {@code ip -o link show} ("N: name@peer: ..."). */
    private static List<String> ipNames(String... args) {
        List<String> argv = new ArrayList<>(List.of("ip"));
        argv.addAll(List.of(args));
        boolean links = argv.contains("link");
        List<String> names = new ArrayList<>();
        for (String line : Executors.local().run(Command.of(argv).withTimeout(Duration.ofSeconds(30))).stdout()
                .split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            names.add(links ? line.split(":\\s+", 3)[1].split("@")[0] : line.trim().split("\\s+")[0]);
        }
        return names;
    }

    /** PID, name, state and parent from /proc, for a failure message. */
    private static String describe(ProcessHandle p) {
        try {
            return p.pid() + " " + Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status")).stream()
                    .filter(l -> l.matches("(Name|State|PPid|NSpid):.*")).toList();
        } catch (IOException e) {
            return p.pid() + " (gone: " + e + ")";
        }
    }

    private static void run(String... argv) {
        Executors.local().run(Command.of(List.of(argv)).withTimeout(Duration.ofSeconds(30)));
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
