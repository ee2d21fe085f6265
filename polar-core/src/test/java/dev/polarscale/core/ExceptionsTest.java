package dev.polarscale.core;

import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** One exception story: a reason, node and host on every exception, kept through serialisation. */
class ExceptionsTest {

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T roundTrip(T e) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(e);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (T) in.readObject();
        }
    }

    @Test
    void commandFailedKeepsItsMaskedResultThroughSerialisation() throws Exception {
        Command c = Command.of("psql", "-c", "ALTER ROLE x PASSWORD 'hunter22'").withSecret("hunter22");
        CommandExecutor failing = new CommandExecutor() {
            public String host() {
                return "db1";
            }

            public CommandResult execute(Command command) {
                return new CommandResult(2, "out hunter22", "ERROR near hunter22", Duration.ofMillis(5));
            }
        };
        CommandFailedException e = roundTrip(org.junit.jupiter.api.Assertions.assertThrows(
                CommandFailedException.class, () -> failing.run(c)));
        assertEquals(PolarException.Reason.COMMAND_FAILED, e.reason());
        assertEquals(Optional.of("db1"), e.host());
        assertEquals(2, e.exitCode());
        assertEquals("ERROR near ******", e.result().stderr());
        assertEquals("out ******", e.result().stdout());
        assertEquals(List.of("psql", "-c", "ALTER ROLE x PASSWORD '******'"), e.redactedArgv());
        assertFalse(e.getMessage().contains("hunter22"), e.getMessage());
    }

    @Test
    void everyCoreExceptionKeepsReasonNodeAndHost() throws Exception {
        List<PolarException> all = List.of(
                new PolarException(PolarException.Reason.PORT_IN_USE, "n1", "db1", null, "n1 - port taken", null),
                new CommandTimeoutException("db1", List.of("sleep", "9"), Duration.ofSeconds(1), "timed out"),
                new SshException("db1", 22, PolarException.Reason.AUTH_FAILED, "refused", null),
                new NodeStartupException("n1", "pg_ctl start failed", "LOG: could not bind: Address already in use"));
        for (PolarException e : all) {
            PolarException back = roundTrip(e);
            assertEquals(e.reason(), back.reason(), e.toString());
            assertEquals(e.node(), back.node());
            assertEquals(e.host(), back.host());
            assertEquals(e.getMessage(), back.getMessage());
            assertEquals(e.getClass(), back.getClass());
        }
        assertEquals(PolarException.Reason.TIMEOUT, all.get(1).reason());
        assertEquals(PolarException.Reason.PORT_IN_USE, all.get(3).reason(), "the log names the taken port");
        assertEquals(22, roundTrip((SshException) all.get(2)).port());
    }

    @Test
    void onlyAServerSentSqlStateIsReported() {
        SQLException refused = new PSQLException("Connection to 127.0.0.1:1 refused", PSQLState.CONNECTION_UNABLE_TO_CONNECT);
        assertNull(PolarException.serverSqlState(refused), "08001 was made up by the driver");
        assertEquals(PolarException.Reason.SERVER_UNREACHABLE, PolarException.reasonOf(refused));
        assertEquals(PolarException.Reason.CONNECTION_LOST,
                PolarException.reasonOf(new PSQLException("I/O error", PSQLState.CONNECTION_FAILURE)));
        assertEquals(PolarException.Reason.SQL_ERROR, PolarException.reasonOf(new SQLException("plain", "XX000")));
    }
}
