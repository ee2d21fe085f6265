package dev.polarscale.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.polarscale.core.rig.HostRig;
import dev.polarscale.core.rig.WithHostRig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar against two hosts of the multi-host rig (each its own network namespace and
 * sshd): the cluster file reaches both over SSH with the rig's key file and known_hosts file (a
 * strict host-key check), the superuser's password from a file and the replication password from
 * an environment variable. The primary on host A, a standby on host B, {@code status --json},
 * {@code remove}, {@code status --json}, {@code stop}. Skipped with the reason where the rig cannot
 * run (it needs root, {@code ip netns} and {@code sshd}).
 */
@WithHostRig(hosts = 2)
class CliMultiHostIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REPL_ENV = "POLARSCALE_IT_REPLICATION_PASSWORD";

    private static Path work;
    private static CliProcess cli;

    @BeforeAll
    static void clusterFile(HostRig rig) throws Exception {
        work = Files.createTempDirectory("polarscale-cli-rig-");
        cli = new CliProcess(work);
        Path su = work.resolve("superuser.password");
        Files.createFile(su, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(su, "rig-super-" + Long.toHexString(System.nanoTime()) + "\n");
        String a = rig.host(0).address();
        String b = rig.host(1).address();
        String ssh = "{ssh: {user: root, keyFile: \"" + rig.clientKeyFile() + "\", knownHosts: \""
                + rig.knownHostsFile() + "\", connectTimeout: 5s}}";
        Path file = work.resolve("cluster.yaml");
        Files.writeString(file, """
                primary: {name: primary, host: %s, port: 5432, dataDirectory: %s/primary}
                hosts:
                  %s: %s
                  %s: %s
                installation: /usr/lib/postgresql/15/bin
                superuser:
                  password: {file: superuser.password}
                replication:
                  password: {env: %s}
                timeouts: {verify: 30s}
                """.formatted(a, HostRig.DATA_DIR, a, ssh, b, ssh, REPL_ENV));
        cli.env(PolarScaleCli.CLUSTER_FILE_ENV, file.toString())
                .env(REPL_ENV, "rig-repl-" + Long.toHexString(System.nanoTime()));
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (cli != null) {
            CliProcess.Run stop = cli.run("stop"); // the rig kills whatever is left when it closes
            System.out.println("teardown stop: exit " + stop.code());
        }
        if (work != null) {
            CliProcess.deleteTree(work);
        }
    }

    @Test
    void aPrimaryOnOneHostAndAStandbyOnAnotherThroughTheJar(HostRig rig) throws Exception {
        String b = rig.host(1).address();
        CliProcess.Run deploy = cli.run("deploy");
        assertEquals(0, deploy.code(), deploy::toString);
        assertTrue(deploy.out().contains("deployed primary primary on " + rig.host(0).address() + ":5432"),
                deploy::toString);

        CliProcess.Run add = cli.run("add", "standby", "--name", "standby-b", "--host", b, "--port", "5432");
        assertEquals(0, add.code(), add::toString);
        assertTrue(add.out().contains("added standby standby-b on " + b + ":5432"), add::toString);

        JsonNode st = status();
        assertTrue(st.get("healthy").asBoolean(), st::toString);
        assertEquals(2, st.get("nodes").size());
        JsonNode standby = st.get("nodes").get(1);
        assertEquals("standby-b", standby.get("name").asText());
        assertEquals(b, standby.get("host").asText());
        assertEquals("streaming", standby.get("replication").asText());
        assertTrue(rig.host(1).exec("test", "-f", HostRig.DATA_DIR + "/standby-b/standby.signal").succeeded(),
                "the standby's data directory is on host B");

        CliProcess.Run remove = cli.run("remove", "standby-b", "--delete-data");
        assertEquals(0, remove.code(), remove::toString);
        assertFalse(rig.host(1).exec("test", "-e", HostRig.DATA_DIR + "/standby-b").succeeded(), "deleted on B");
        JsonNode after = status();
        assertEquals(1, after.get("nodes").size(), after::toString);
        assertTrue(after.get("healthy").asBoolean(), after::toString);

        CliProcess.Run stop = cli.run("stop");
        assertEquals(0, stop.code(), stop::toString);
        assertTrue(stop.out().contains("stopped primary"), stop::toString);
        assertFalse(rig.host(0).exec("test", "-f", HostRig.DATA_DIR + "/primary/postmaster.pid").succeeded(),
                "the primary stopped");
    }

    /**
     * The README's try-out where this machine's server binaries are hidden (the jar runs in a mount
     * namespace of its own, {@link HostRig#withoutServerBinaries}): the embedded binaries inside the
     * jar serve, and the standby is copied with the low-level backup API (they have no
     * {@code pg_basebackup}), as on a machine with nothing but a JDK.
     */
    @Test
    void theTryOutNeedsNoPostgreSqlOnTheMachine(HostRig rig) throws Exception {
        Path base = Files.createTempDirectory("polarscale-cli-bare-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        Path dir = base.resolve("cluster");
        CliProcess bare = new CliProcess(base).prefix(rig.withoutServerBinaries())
                .env(PolarScaleCli.CLUSTER_FILE_ENV, dir.resolve("cluster.yaml").toString());
        int[] ports = CliIT.freePorts(2);
        try {
            assertEquals(0, bare.run("init", dir.toString(), "--port", Integer.toString(ports[0])).code());
            CliProcess.Run plan = bare.run("plan", "deploy");
            assertEquals(0, plan.code(), plan::toString);
            assertFalse(plan.out().contains("/usr/lib/postgresql"), "this machine's binaries are hidden: " + plan);
            assertTrue(plan.out().contains("/initdb "), plan::toString);
            CliProcess.Run deploy = bare.run("deploy");
            assertEquals(0, deploy.code(), deploy::toString);
            CliProcess.Run add = bare.run("add", "standby", "--name", "standby-1", "--port", Integer.toString(ports[1]));
            assertEquals(0, add.code(), add::toString);
            CliProcess.Run st = bare.run("status", "--json");
            assertEquals(0, st.code(), st::toString);
            JsonNode status = JSON.readTree(st.out());
            assertTrue(status.get("healthy").asBoolean(), st::toString);
            assertEquals(2, status.get("nodes").size(), st::toString);
            assertEquals(0, bare.run("remove", "standby-1", "--delete-data").code());
            assertEquals(0, bare.run("stop").code());
            assertEquals(0, CliProcess.killServersBelow(dir), "no postmaster left");
        } finally {
            CliProcess.killServersBelow(dir);
            CliProcess.deleteTree(base);
        }
    }

    private static JsonNode status() throws Exception {
        CliProcess.Run r = cli.run("status", "--json");
        assertEquals(0, r.code(), r::toString);
        return JSON.readTree(r.out());
    }
}
