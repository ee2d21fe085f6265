package dev.polarscale.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** initdb / start / status / stop on a real PostgreSQL server. */
class PostgresNodeIT {
    private Path base;
    private final List<PostgresNode> nodes = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        base = TestDirs.traversableTempDir("node-it");
    }

    @AfterEach
    void tearDown() throws IOException {
        for (PostgresNode n : nodes) {
            n.stop(PostgresNode.StopMode.IMMEDIATE);
            n.deleteDataDirectory();
        }
        TestDirs.delete(base);
    }

    private PostgresNode node(String name) {
        PostgresNode n = PostgresNode.builder().installation(PgBinaries.locate())
                .name(name).dataDirectory(base.resolve(name))
                .port(TestDirs.freePort()).build();
        nodes.add(n);
        return n;
    }

    @Test
    void initdbStartStatusStop() throws SQLException {
        PostgresNode n = node("lifecycle");
        assertEquals(NodeState.NO_DATA_DIRECTORY, n.status());
        n.initdb();
        assertEquals(NodeState.STOPPED, n.status());
        String version = n.start();
        assertTrue(version.startsWith("PostgreSQL "), version);
        assertEquals(NodeState.RUNNING, n.status());
        try (Connection c = n.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('port'), current_user, "
                     + "(SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust')")) {
            rs.next();
            assertEquals(Integer.toString(n.port().value()), rs.getString(1));
            assertEquals("postgres", rs.getString(2));
            assertEquals(0, rs.getInt(3), "initdb must not leave trust rules");
        }
        assertEquals(version, n.start(), "a second start only checks the running server");
        n.stop();
        assertEquals(NodeState.STOPPED, n.status());
        n.stop(); // idempotent
        assertEquals("rwx------", permissions(n.dataDirectory()));
    }

    @Test
    void wrongPasswordIsRefused() {
        PostgresNode n = node("auth");
        n.initdb();
        n.start();
        PostgresNode wrong = n.toBuilder().password("not-the-password").build();
        SQLException e = assertThrows(SQLException.class, () -> wrong.connect().close());
        assertEquals("28P01", e.getSQLState(), e.getMessage());
    }

    @Test
    void startOnTakenPortReportsTheServerLog() throws IOException {
        PostgresNode n = node("taken");
        n.initdb();
        try (ServerSocket blocker = new ServerSocket(n.port().value(), 1, InetAddress.getByName("127.0.0.1"))) {
            NodeStartupException e = assertThrows(NodeStartupException.class, n::start);
            assertTrue(e.getMessage().contains("Address already in use"), e.getMessage());
            assertTrue(e.logTail().contains("Address already in use"), e.logTail());
            assertEquals(Optional.of("taken"), e.node());
            assertEquals(PolarException.Reason.PORT_IN_USE, e.reason(), "the log says the port is taken");
        }
        assertFalse(n.status() == NodeState.RUNNING);
    }

    @Test
    void initdbRefusesAnExistingCluster() {
        PostgresNode n = node("twice");
        n.initdb();
        PolarException e = assertThrows(PolarException.class, n::initdb);
        assertTrue(e.getMessage().contains("already holds a cluster"), e.getMessage());
        assertEquals(PolarException.Reason.DATA_DIRECTORY_EXISTS, e.reason());
    }

    /**
     * The non-root path: an executor whose commands all run as {@code postgres} (as over SSH to a
     * {@code postgres} login), and a node that runs server commands as that executor's own user,
     * with no user switch and no root anywhere.
     */
    @Test
    void lifecycleAsTheExecutorsOwnNonRootUser() throws IOException, SQLException {
        CommandExecutor local = Executors.local();
        assumeTrue("root".equals(OsUsers.whoami(local)), "the JVM must be root to become postgres with runuser");
        assumeTrue(OsUsers.exists(local, "postgres"), "there is no OS user postgres");
        PostgresNode rootNode = PostgresNode.builder().installation(PgBinaries.locate())
                .name("root")
                .dataDirectory(base.resolve("root")).port(5432).runAsExecutorUser().build(); // runs nothing
        IllegalStateException asRoot = assertThrows(IllegalStateException.class, rootNode::status,
                "the executor's user is checked on first use");
        assertTrue(asRoot.getMessage().contains("the executor runs as root"), asRoot.getMessage());

        Path owned = Files.createDirectory(base.resolve("owned"));
        Files.setOwner(owned, owned.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres"));
        AsPostgres asPostgres = new AsPostgres(local);
        assertEquals("postgres", OsUsers.whoami(asPostgres));
        assertEquals(Optional.empty(), OsUsers.serverUser(asPostgres), "a non-root executor runs servers as itself");

        PostgresNode n = PostgresNode.builder().installation(PgBinaries.locate())
                .name("nonroot").executor(asPostgres).runAsExecutorUser()
                .dataDirectory(owned.resolve("nonroot")).port(TestDirs.freePort()).build();
        nodes.add(n);
        assertEquals(Optional.empty(), n.osUser());
        assertEquals(NodeState.NO_DATA_DIRECTORY, n.status());
        n.initdb();
        assertEquals(NodeState.STOPPED, n.status());
        assertEquals("postgres", Files.getOwner(n.dataDirectory()).getName());
        assertEquals("rwx------", permissions(n.dataDirectory()));
        n.start();
        assertEquals(NodeState.RUNNING, n.status());
        String pid = n.readFile("postmaster.pid").lines().findFirst().orElseThrow();
        assertEquals("postgres", local.run(Command.of("ps", "-o", "user=", "-p", pid)).stdout().strip(),
                "the postmaster's OS user");
        try (Connection c = n.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('port'), "
                     + "(SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust')")) {
            rs.next();
            assertEquals(Integer.toString(n.port().value()), rs.getString(1));
            assertEquals(0, rs.getInt(2), "initdb must not leave trust rules");
        }
        n.stop();
        assertEquals(NodeState.STOPPED, n.status());
        n.deleteDataDirectory();
        assertEquals(NodeState.NO_DATA_DIRECTORY, n.status());
        assertFalse(Files.exists(n.dataDirectory()));
        TestDirs.assertNoServerProcesses(n.dataDirectory());
        assertTrue(asPostgres.commands.get() > 10, "every step went through the wrapper: " + asPostgres.commands);
    }

    /**
     * Runs every command as {@code postgres} through the local executor, so from the inside it is
     * a non-root executor. A request for root, or for another user, fails the test: the non-root
     * path must need neither.
     */
    private static final class AsPostgres implements CommandExecutor {
        private final CommandExecutor delegate;
        private final AtomicInteger commands = new AtomicInteger();

        AsPostgres(CommandExecutor delegate) {
            this.delegate = delegate;
        }

        @Override
        public String host() {
            return delegate.host();
        }

        @Override
        public CommandResult execute(Command command) {
            if (command.isPrivileged() || command.runAs().filter(u -> !u.equals("postgres")).isPresent()) {
                throw new AssertionError("the non-root path asked for another identity: " + command);
            }
            commands.incrementAndGet();
            return delegate.execute(command.runAs().isPresent() ? command : command.asUser("postgres"));
        }
    }

    private static String permissions(Path p) {
        try {
            return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
        } catch (IOException e) {
            return "unreadable: " + e;
        }
    }
}
