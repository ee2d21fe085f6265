package dev.polarscale.replication.internal;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.core.PostgresNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the template is keyed by and made with; no process runs. */
class InitdbTemplateTest {

    /** Answers {@code pg_ctl status} with "no data directory" and records every command. */
    private static final class Recorder implements CommandExecutor {
        final List<Command> commands = new ArrayList<>();

        @Override
        public String host() {
            return "127.0.0.1";
        }

        @Override
        public CommandResult execute(Command c) {
            commands.add(c);
            boolean status = c.argv().contains("status");
            return new CommandResult(status ? 4 : 0, c.argv().get(0).equals("sh") ? "/tmp/pw-dir\n" : "", "",
                    Duration.ZERO);
        }
    }

    @Test
    void theTemplateIsMadeWithTheOptionsOfARealInitdb() {
        Recorder r = new Recorder();
        PostgresNode node = PostgresNode.builder().name("primary").installation(new PgInstallation(Path.of("/pg/bin")))
                .executor(r).dataDirectory(Path.of("/srv/primary")).port(5432).osUser("postgres").build();
        node.initdb();
        List<String> initdb = r.commands.stream().map(Command::argv).filter(a -> a.get(0).endsWith("/initdb"))
                .findFirst().orElseThrow();
        int pw = initdb.indexOf(initdb.stream().filter(a -> a.startsWith("--pwfile=")).findFirst().orElseThrow());
        List<String> options = new ArrayList<>(InitdbTemplate.INITDB_OPTIONS);
        options.add("--no-sync"); // the template is synced once instead: a cache must survive a crash
        assertEquals(options, initdb.subList(pw + 1, initdb.size()),
                "PostgresNode.initdb and the template must make the same cluster");
        assertEquals(List.of("-D", "/srv/primary", "-U", "postgres"), initdb.subList(1, pw));
    }

    @Test
    void theKeyNamesVersionAndHashesEverythingThatShapesTheCluster() {
        String v = "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)";
        Path bin = Path.of("/usr/lib/postgresql/15/bin");
        String k = InitdbTemplate.key(v, bin, "postgres");
        assertTrue(k.matches("pgdata-pg15\\.18-[0-9a-f]{12}"), k);
        assertEquals(k, InitdbTemplate.key(v, bin, "postgres"), "stable");
        assertNotEquals(k, InitdbTemplate.key(v, bin, "admin"), "superuser");
        assertNotEquals(k, InitdbTemplate.key(v.replace("15.18", "15.19"), bin, "postgres"), "version");
        assertNotEquals(k, InitdbTemplate.key(v, Path.of("/opt/pg/bin"), "postgres"), "binaries");
        assertTrue(InitdbTemplate.key("no version here", bin, "postgres").startsWith("pgdata-pgunknown-"));
    }

    @Test
    void theCopyScriptOutputIsReadBySection() {
        Map<String, byte[]> s = InitdbTemplate.sections("== built\n== pg_control\n 01 02\n 03\n"
                + "== wal 000000010000000000000001\n 10 d1\n");
        assertEquals(List.of("built", "pg_control", "wal 000000010000000000000001"), List.copyOf(s.keySet()));
        assertArrayEquals(new byte[]{1, 2, 3}, s.get("pg_control"));
        assertArrayEquals(new byte[]{0x10, (byte) 0xd1}, s.get("wal 000000010000000000000001"));
    }
}
