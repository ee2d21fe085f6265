package dev.polarscale.core;

import dev.polarscale.core.internal.conf.ManagedBlock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * pg_hba.conf rules written by {@link HbaRule#mergeInto} decide who a real PostgreSQL 15 server
 * admits: a password-checked physical replication connection, and nothing by {@code trust}
 * unless a rule says {@link HbaRule.Builder#insecureTrust()}. One server for the class.
 */
class HbaRuleIT {
    private static final String ROLE = "repl_test";
    private static final String PASSWORD = "repl 'pass' \\ #=ü";
    /** Has the password and REPLICATION too, but the managed block rejects it before initdb's scram line. */
    private static final String REJECTED_ROLE = "repl_rejected";
    private static final List<HbaRule> RULES = List.of(
            HbaRule.replication(ROLE, "127.0.0.1/32"),
            HbaRule.builder().replicationDatabase().user(REJECTED_ROLE).address("127.0.0.1/32")
                    .method(HbaRule.Method.REJECT).build());

    private static Path base;
    private static PostgresNode node;
    private static String initdbHba;

    @BeforeAll
    static void startPrimary() throws IOException, SQLException {
        base = TestDirs.traversableTempDir("hba-it");
        node = PostgresNode.builder().installation(PgBinaries.locate())
                .name("hba_it").dataDirectory(base.resolve("data"))
                .port(TestDirs.freePort()).build();
        node.initdb();
        initdbHba = node.readFile("pg_hba.conf");
        node.writeFile("pg_hba.conf", HbaRule.mergeInto(initdbHba, RULES));
        node.start();
        try (Connection c = node.connect(); Statement s = c.createStatement()) {
            for (String role : List.of(ROLE, REJECTED_ROLE)) {
                s.execute("CREATE ROLE " + role + " WITH REPLICATION LOGIN");
                c.unwrap(PGConnection.class).alterUserPassword(role, PASSWORD.toCharArray(), "scram-sha-256");
            }
            try (ResultSet rs = s.executeQuery("SELECT pg_reload_conf()")) {
                rs.next();
                assertTrue(rs.getBoolean(1));
            }
        }
    }

    @AfterAll
    static void cleanUp() {
        TestDirs.stopAndDelete(node, base);
    }

    @Test
    void theManagedBlockIsWhatTheServerReadsFirst() throws SQLException {
        try (Connection c = node.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT line_number, type, database, user_name, address, netmask,"
                     + " auth_method, error FROM pg_hba_file_rules ORDER BY line_number LIMIT 2")) {
            assertTrue(rs.next());
            assertRule(rs, 2, "{replication}", "{" + ROLE + "}", "scram-sha-256");
            assertTrue(rs.next());
            assertRule(rs, 3, "{replication}", "{" + REJECTED_ROLE + "}", "reject");
        }
        assertEquals(0, count("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL"));
        assertEquals(ManagedBlock.BEGIN, node.readFile("pg_hba.conf").lines().findFirst().orElseThrow());
    }

    @Test
    void replicationWithThePasswordIsAdmitted() throws SQLException {
        long systemId;
        try (Connection c = node.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT system_identifier FROM pg_control_system()")) {
            rs.next();
            systemId = rs.getLong(1);
        }
        try (Connection repl = replicationConnection(ROLE, PASSWORD); Statement s = repl.createStatement()) {
            assertTrue(s.execute("IDENTIFY_SYSTEM"));
            try (ResultSet rs = s.getResultSet()) {
                assertTrue(rs.next());
                assertEquals(Long.toString(systemId), rs.getString("systemid"));
                assertEquals(1, rs.getInt("timeline"));
            }
            assertEquals(1, count("SELECT count(*) FROM pg_stat_activity WHERE usename = '" + ROLE
                    + "' AND backend_type = 'walsender'"), "the connection is served by a walsender");
        }
    }

    @Test
    void replicationWithoutThePasswordIsRefused() {
        SQLException e = assertThrows(SQLException.class, () -> replicationConnection(ROLE, null).close());
        // the server asked for SCRAM (not trust); pgjdbc has nothing to answer with
        assertTrue(e.getMessage().contains("SCRAM-based authentication, but no password was provided"),
                e.getMessage());
    }

    @Test
    void replicationWithAWrongPasswordIsRefused() {
        SQLException e = assertThrows(SQLException.class,
                () -> replicationConnection(ROLE, PASSWORD + "x").close());
        assertEquals("28P01", e.getSQLState(), e.getMessage());
        assertTrue(e.getMessage().contains("password authentication failed for user \"" + ROLE + "\""),
                e.getMessage());
    }

    @Test
    void aRejectRuleInTheBlockWinsOverInitdbsLines() {
        SQLException e = assertThrows(SQLException.class,
                () -> replicationConnection(REJECTED_ROLE, PASSWORD).close());
        assertEquals("28000", e.getSQLState(), e.getMessage());
        assertTrue(e.getMessage().contains("pg_hba.conf rejects replication connection"), e.getMessage());
    }

    /**
     * initdb as PostgresNode runs it writes no trust line, no {@link HbaRule.Method} is trust, and a
     * block with one {@code insecureTrust()} rule gives exactly that one trust line.
     * {@code pg_hba_file_rules} parses the file on every query, so no reload is needed and the
     * loaded rules never hold the trust line.
     */
    @Test
    void onlyInsecureTrustGivesATrustRule() throws SQLException {
        String trustQuery = "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust'";
        assertEquals(0, count(trustQuery), "a fresh node with the managed block");
        assertTrue(Stream.of(HbaRule.Method.values()).noneMatch(m -> m.value().equals("trust")));

        String before = node.readFile("pg_hba.conf");
        node.writeFile("pg_hba.conf", initdbHba);
        try {
            assertEquals(0, count(trustQuery), "initdb's own lines");
            HbaRule trust = HbaRule.builder().allDatabases().user("trust_only").address("127.0.0.2/32")
                    .insecureTrust().build();
            List<HbaRule> withTrust = new ArrayList<>(RULES);
            withTrust.add(trust);
            node.writeFile("pg_hba.conf", HbaRule.mergeInto(initdbHba, withTrust));
            assertEquals(1, count(trustQuery));
            assertEquals(1, count("SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust'"
                    + " AND user_name = '{trust_only}' AND address = '127.0.0.2' AND netmask = '255.255.255.255'"
                    + " AND line_number = 4"));
        } finally {
            node.writeFile("pg_hba.conf", before);
        }
        assertEquals(0, count(trustQuery));
    }

    private static void assertRule(ResultSet rs, int line, String database, String user, String method)
            throws SQLException {
        assertEquals(line, rs.getInt("line_number"));
        assertEquals("host", rs.getString("type"));
        assertEquals(database, rs.getString("database"));
        assertEquals(user, rs.getString("user_name"));
        assertEquals("127.0.0.1", rs.getString("address"));
        assertEquals("255.255.255.255", rs.getString("netmask"));
        assertEquals(method, rs.getString("auth_method"));
        assertEquals(null, rs.getString("error"));
    }

    /** A physical replication connection (walsender protocol) as pgjdbc opens it. */
    private static Connection replicationConnection(String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        p.setProperty("replication", "true");
        p.setProperty("assumeMinServerVersion", "9.4");
        p.setProperty("preferQueryMode", "simple");
        p.setProperty("connectTimeout", "10");
        return DriverManager.getConnection(node.jdbcUrl(), p);
    }

    private static long count(String sql) throws SQLException {
        try (Connection c = node.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
