package dev.polarscale.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged {@code polarscale.jar} as a user runs it, on real PostgreSQL servers on 127.0.0.1:
 * {@code deploy} → {@code plan scale --to 3} (changes nothing) → {@code scale --to 3} →
 * {@code status --json} → {@code scale --to 1} → {@code events}; then {@code stop}. Nothing is left
 * running or on disk, also after a failure.
 */
class CliScaleIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path base;
    private static Path dir;
    private static Path clusterFile;
    private static CliProcess cli;

    @BeforeAll
    static void directory() throws Exception {
        base = Files.createTempDirectory("polarscale-cli-scale-it-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        cli = new CliProcess(base);
        dir = base.resolve("cluster");
        clusterFile = dir.resolve("cluster.yaml");
        cli.env(PolarScaleCli.CLUSTER_FILE_ENV, clusterFile.toString());
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

    private static JsonNode status() throws Exception {
        CliProcess.Run r = cli.run("status", "--json");
        assertEquals(0, r.code(), r::toString);
        return JSON.readTree(r.out());
    }

    private static List<String> names(JsonNode status) {
        List<String> names = new ArrayList<>();
        for (JsonNode n : status.get("nodes")) {
            names.add(n.get("name").asText());
        }
        return names;
    }

    @Test
    void deployScaleToThreeStatusScaleToOneEvents() throws Exception {
        int port = CliIT.freePorts(1)[0];
        assertEquals(0, cli.run("init", dir.toString(), "--port", Integer.toString(port)).code());
        CliProcess.Run deploy = cli.run("deploy");
        assertEquals(0, deploy.code(), deploy::toString);

        CliProcess.Run plan = cli.run("plan", "scale", "--to", "3", "--first-port", Integer.toString(port + 1));
        assertEquals(0, plan.code(), plan::toString);
        for (String n : List.of("standby-1", "standby-2", "standby-3")) {
            assertTrue(plan.out().contains(n), "the plan names " + n + ":\n" + plan);
        }
        assertEquals(List.of("primary"), names(status()), "a plan changes nothing");

        CliProcess.Run up = cli.run("scale", "--to", "3", "--first-port", Integer.toString(port + 1));
        assertEquals(0, up.code(), up::toString);
        assertTrue(up.out().contains("scaled to 3 follower(s)"), up::toString);
        JsonNode three = status();
        assertEquals(List.of("primary", "standby-1", "standby-2", "standby-3"), names(three), three::toString);
        assertTrue(three.get("healthy").asBoolean(), three::toString);

        CliProcess.Run again = cli.run("scale", "--to", "3", "--first-port", Integer.toString(port + 1));
        assertEquals(0, again.code(), again::toString);
        assertTrue(again.out().contains("nothing to do"), again::toString);

        CliProcess.Run down = cli.run("scale", "--to", "1");
        assertEquals(0, down.code(), down::toString);
        JsonNode one = status();
        assertEquals(List.of("primary", "standby-1"), names(one), "the highest numbers went first: " + one);
        assertFalse(Files.exists(dir.resolve("standby-3")), "a removed node's data directory is deleted");

        CliProcess.Run events = cli.run("events", "--operations");
        assertEquals(0, events.code(), events::toString);
        System.out.println(events.out());
        assertTrue(events.out().contains("addStandby standby-3"), events::toString);
        assertTrue(events.out().contains("removeNode standby-3"), events::toString);
        assertTrue(events.out().contains("deployPrimary primary"), events::toString);
        assertFalse(events.out().contains("[create slot]"), "--operations leaves the steps out");
        CliProcess.Run steps = cli.run("events", "--node", "standby-2", "--limit", "100");
        assertEquals(0, steps.code(), steps::toString);
        assertTrue(steps.out().contains("[create slot]") && steps.out().contains("[drop slot]"), steps::toString);
    }
}
