package dev.polarscale.core;

import dev.polarscale.core.rig.HostRig;
import dev.polarscale.core.rig.RigHost;
import dev.polarscale.core.rig.WithHostRig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * PostgreSQL servers on two hosts of the {@link HostRig}, driven from this JVM only through
 * {@code Executors.ssh} and {@link PostgresNode}: the same port and data directory path on both
 * hosts (their own network, /run, /dev/shm and /srv), reached by JDBC at each host's address.
 * The rig comes from {@link WithHostRig}.
 */
@WithHostRig(hosts = 2)
class PostgresNodeOverSshIT {
    /** This machine's PostgreSQL, which every host sees at the same path. */
    private static final Path PG_BIN = Path.of("/usr/lib/postgresql/15/bin");

    private static HostRig rig;
    private static final List<CommandExecutor> executors = new ArrayList<>();
    private static final List<PostgresNode> nodes = new ArrayList<>();

    @BeforeAll
    static void checkBinaries(HostRig started) {
        rig = started;
        assumeTrue(rig.host(0).exec("test", "-x", PG_BIN.resolve("postgres").toString()).succeeded(),
                "the hosts need PostgreSQL 15 at " + PG_BIN);
    }

    /** Before the extension closes the rig (which would kill the servers anyway). */
    @AfterAll
    static void stopAll() {
        for (PostgresNode n : nodes) {
            n.stop(PostgresNode.StopMode.IMMEDIATE);
        }
        executors.forEach(CommandExecutor::close);
    }

    private static PostgresNode node(RigHost host) {
        CommandExecutor ssh = Executors.ssh(host.sshTarget());
        executors.add(ssh);
        PostgresNode n = PostgresNode.builder()
                .name("pg_" + host.name())
                // PgInstallation.at(...) would look for the binaries on this (the control) machine
                .installation(new PgInstallation(PG_BIN))
                .executor(ssh)
                .osUser("postgres")
                .dataDirectory(HostRig.DATA_DIR.resolve("pg"))
                .port(5432)
                .jdbcHost(host.address())
                .build();
        nodes.add(n);
        return n;
    }

    @Test
    void serversOnTwoHostsWithTheSamePortAndPathAnswerAtTheirAddresses() throws SQLException {
        List<PostgresNode> both = new ArrayList<>();
        for (RigHost h : rig.hosts()) {
            long t0 = System.nanoTime();
            PostgresNode n = node(h);
            assertEquals(NodeState.NO_DATA_DIRECTORY, n.status());
            n.initdb();
            // listen on the host's address, and let the control address in with the password
            n.writeFile("postgresql.conf", NodeConfig.builder().role(NodeRole.PRIMARY).port(Port.of(5432))
                    .listenAddresses(h.address()).build().mergeInto(n.readFile("postgresql.conf")));
            n.writeFile("pg_hba.conf", HbaRule.mergeInto(n.readFile("pg_hba.conf"), List.of(HbaRule.builder()
                    .type(HbaRule.ConnectionType.HOST).allDatabases().user(n.superuser())
                    .address(rig.controlAddress() + "/32").build())));
            String version = n.start();
            assertTrue(version.startsWith("PostgreSQL 15"), version);
            System.out.printf("%s: initdb + start over SSH in %d ms%n", h, (System.nanoTime() - t0) / 1_000_000);
            both.add(n);
        }
        for (int i = 0; i < both.size(); i++) {
            RigHost h = rig.host(i);
            PostgresNode n = both.get(i);
            assertEquals(NodeState.RUNNING, n.status());
            try (Connection c = n.connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT host(inet_server_addr()), host(inet_client_addr()),"
                         + " current_setting('data_directory'), current_setting('port')")) {
                rs.next();
                assertEquals(h.address(), rs.getString(1));
                assertEquals(rig.controlAddress(), rs.getString(2));
                assertEquals(HostRig.DATA_DIR.resolve("pg").toString(), rs.getString(3));
                assertEquals("5432", rs.getString(4));
            }
            // the server runs on that host only: its process table and its data directory
            String postmaster = h.exec("pgrep", "-u", "postgres", "-x", "postgres").stdout();
            assertTrue(!postmaster.isBlank(), h + " runs no postgres");
        }
        for (PostgresNode n : both) {
            n.stop();
            assertEquals(NodeState.STOPPED, n.status());
            n.deleteDataDirectory();
            assertEquals(NodeState.NO_DATA_DIRECTORY, n.status());
        }
    }
}
