package dev.polarscale.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import dev.polarscale.core.FreePorts;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged {@code polarscale.jar}, run as a child process as a user runs it, against real
 * PostgreSQL servers on 127.0.0.1 in a temporary directory: {@code init}, {@code deploy},
 * {@code plan add standby} (changes nothing), {@code add standby} twice, {@code status --json}, the
 * exit codes of a conflict, a missing node and a bad cluster file (none changes anything),
 * {@code status --watch --count 2}, {@code remove}, {@code status}, {@code stop}: no server is
 * left running and the directory is deleted, also after a failure.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path base;
    private static Path dir;
    private static Path clusterFile;
    private static CliProcess cli;
    private static int primaryPort;
    private static int port1;
    private static int port2;

    @BeforeAll
    static void directory() throws IOException {
        base = Files.createTempDirectory("polarscale-cli-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        cli = new CliProcess(base);
        dir = base.resolve("cluster");
        clusterFile = dir.resolve("cluster.yaml");
        cli.env(PolarScaleCli.CLUSTER_FILE_ENV, clusterFile.toString());
        int[] ports = freePorts(3);
        primaryPort = ports[0];
        port1 = ports[1];
        port2 = ports[2];
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (cli != null && Files.exists(clusterFile)) {
            CliProcess.Run stop = cli.run("stop");
            if (stop.code() != 0) {
                System.out.println("stop at teardown failed; killed " + CliProcess.killServersBelow(dir) + " server(s)");
            }
        }
        if (base != null) {
            CliProcess.killServersBelow(base);
            CliProcess.deleteTree(base);
        }
    }

    @Test
    @Order(1)
    void initThenDeployPrintsEachStep() throws Exception {
        CliProcess.Run init = cli.run("init", dir.toString(), "--port", Integer.toString(primaryPort));
        assertEquals(0, init.code(), init::toString);
        assertTrue(Files.isRegularFile(clusterFile));

        CliProcess.Run deploy = cli.run("deploy");
        assertEquals(0, deploy.code(), deploy::toString);
        assertTrue(deploy.out().contains("deployPrimary primary: step initdb done in "), deploy::toString);
        assertTrue(deploy.out().contains("deployPrimary primary: step start done in "), deploy::toString);
        assertTrue(deploy.out().contains("deployed primary primary on 127.0.0.1:" + primaryPort + " in "),
                deploy::toString);
        assertFalse(deploy.out().contains("\r") || deploy.out().contains("✓"), "plain lines on a pipe");
        assertFalse(deploy.out().contains(secret("superuser")) || deploy.err().contains(secret("superuser")));
    }

    @Test
    @Order(2)
    void planChangesNothingThenTwoStandbysAreAdded() throws Exception {
        CliProcess.Run plan = cli.run("plan", "add", "standby", "--name", "standby-1", "--port", Integer.toString(port1));
        assertEquals(0, plan.code(), plan::toString);
        assertTrue(plan.out().contains("create slot @ 127.0.0.1"), plan::toString);
        assertTrue(plan.out().contains("pg_create_physical_replication_slot('standby_1', true)"), plan::toString);
        assertTrue(plan.out().contains(dir.resolve("standby-1").toString()), "the default data directory");
        assertFalse(plan.out().contains(secret("replication")) || plan.out().contains(secret("superuser")));
        assertEquals(1, status().get("nodes").size(), "the plan added nothing");
        assertEquals(0, slots(), "the plan made no slot");
        assertFalse(Files.exists(dir.resolve("standby-1")));

        for (String[] n : new String[][]{{"standby-1", Integer.toString(port1)}, {"standby-2", Integer.toString(port2)}}) {
            CliProcess.Run add = cli.run("add", "standby", "--name", n[0], "--port", n[1]);
            assertEquals(0, add.code(), add::toString);
            assertTrue(add.out().contains("addStandby " + n[0] + ": step create slot done in "), add::toString);
            assertTrue(add.out().contains("addStandby " + n[0] + ": step verify canary done in "), add::toString);
            assertTrue(add.out().contains("added standby " + n[0] + " on 127.0.0.1:" + n[1] + " in "), add::toString);
        }
    }

    @Test
    @Order(3)
    void statusJsonShowsThreeHealthyNodes() throws Exception {
        JsonNode st = status();
        assertTrue(st.get("healthy").asBoolean(), st::toString);
        List<String> names = new ArrayList<>();
        for (JsonNode n : st.get("nodes")) {
            names.add(n.get("name").asText());
            assertTrue(n.get("healthy").asBoolean(), n::toString);
            assertEquals("127.0.0.1", n.get("host").asText());
        }
        assertEquals(List.of("primary", "standby-1", "standby-2"), names);
        JsonNode s2 = st.get("nodes").get(2);
        assertEquals("standby", s2.get("role").asText());
        assertEquals(port2, s2.get("port").asInt());
        assertEquals("streaming", s2.get("replication").asText());
        assertTrue(s2.get("slotActive").asBoolean() && s2.get("inRecovery").asBoolean());
        assertEquals(2, slots());
    }

    @Test
    @Order(4)
    void failuresExitWithTheirCodeAndChangeNothing() throws Exception {
        CliProcess.Run same = cli.run("add", "standby", "--name", "standby-1", "--port", Integer.toString(port1));
        assertEquals(0, same.code(), same::toString);
        assertTrue(same.out().contains("standby standby-1 on 127.0.0.1:" + port1 + " was already in the cluster as "
                + "asked: nothing done"), "the same add again is a retry that finds it done: " + same);

        CliProcess.Run clash = cli.run("add", "standby", "--name", "standby-1", "--port", Integer.toString(port2));
        assertEquals(11, clash.code(), clash::toString);
        assertTrue(clash.err().contains("polarscale: NODE_EXISTS [node standby-1]"), clash::toString);
        assertTrue(clash.err().contains("(exit 11)"), clash::toString);
        assertTrue(clash.out().contains("addStandby standby-1: step check FAILED: "), clash::toString);

        CliProcess.Run missing = cli.run("remove", "no-such-node");
        assertEquals(10, missing.code(), missing::toString);
        assertTrue(missing.err().contains("NODE_NOT_FOUND"), missing::toString);

        Path bad = base.resolve("bad.yaml");
        Files.writeString(bad, Files.readString(clusterFile).replace("superuser:\n  password: {file: superuser.password}",
                "superuser:\n  password: " + secret("superuser")));
        CliProcess.Run inline = cli.run("-f", bad.toString(), "status");
        assertEquals(64, inline.code(), inline::toString);
        assertTrue(inline.err().contains(bad + ":") && inline.err().contains("superuser.password: an inline secret is "
                + "refused"), inline::toString);
        assertFalse(inline.err().contains(secret("superuser")), "the refused secret is not echoed");

        JsonNode st = status();
        assertEquals(3, st.get("nodes").size());
        assertTrue(st.get("healthy").asBoolean(), st::toString);
        assertEquals(2, slots());
    }

    @Test
    @Order(5)
    void statusWatchRepeatsUntilItsCount() throws Exception {
        CliProcess.Run watch = cli.run("status", "--watch", "--count", "2", "--interval", "200ms");
        assertEquals(0, watch.code(), watch::toString);
        assertEquals(2, watch.out().lines().filter(l -> l.startsWith("node ")).count(), watch::toString);
        assertEquals(2, watch.out().lines().filter(l -> l.startsWith("standby-2 ")).count(), watch::toString);
        CliProcess.Run json = cli.run("status", "--json", "--watch", "--count", "2", "--interval", "100ms");
        assertEquals(0, json.code(), json::toString);
        assertEquals(2, json.out().lines().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (IOException e) {
                throw new AssertionError(l, e);
            }
        }).filter(n -> n.get("nodes").size() == 3).count(), json::toString);
    }

    @Test
    @Order(6)
    void removeThenStatus() throws Exception {
        CliProcess.Run remove = cli.run("remove", "standby-2", "--delete-data");
        assertEquals(0, remove.code(), remove::toString);
        assertTrue(remove.out().contains("removeNode standby-2: step drop slot done in "), remove::toString);
        assertTrue(remove.out().contains("removed standby-2 in "), remove::toString);
        assertFalse(Files.exists(dir.resolve("standby-2")), "data directory deleted");
        assertFalse(listening(port2), "standby-2 stopped");
        assertEquals(1, slots());

        CliProcess.Run table = cli.run("status");
        assertEquals(0, table.code(), table::toString);
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith("standby-1 ") && l.contains("streaming")),
                table::toString);
        assertFalse(table.out().contains("standby-2"), table::toString);
    }

    @Test
    @Order(7)
    void stopLeavesNoServerRunning() throws Exception {
        CliProcess.Run stop = cli.run("stop");
        assertEquals(0, stop.code(), stop::toString);
        assertTrue(stop.out().indexOf("stopped standby-1") < stop.out().indexOf("stopped primary"), stop::toString);
        assertFalse(listening(primaryPort) || listening(port1), "nothing listens any more");
        assertEquals(0, CliProcess.killServersBelow(dir), "no postmaster left");
    }

    private static JsonNode status() throws Exception {
        CliProcess.Run r = cli.run("status", "--json");
        assertEquals(0, r.code(), r::toString);
        assertEquals(1, r.out().lines().count(), r::toString);
        return JSON.readTree(r.out());
    }

    private static String secret(String who) throws IOException {
        return Files.readString(dir.resolve(who + ".password")).strip();
    }

    /** Replication slots on the primary, asked over JDBC with the superuser password of the file. */
    private static int slots() throws SQLException, IOException {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + primaryPort + "/postgres",
                "postgres", secret("superuser")); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_replication_slots")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code n} different free ports below the ephemeral range (see {@link FreePorts}). */
    static int[] freePorts(int n) {
        java.util.Set<Integer> ports = new java.util.LinkedHashSet<>();
        while (ports.size() < n) {
            ports.add(FreePorts.pick("127.0.0.1"));
        }
        return ports.stream().mapToInt(Integer::intValue).toArray();
    }
}
