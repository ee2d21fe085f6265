package dev.polarscale.storage;

import dev.polarscale.core.PgInstallation;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ConfigTemplatesTest {
    private static final PgInstallation PG = new PgInstallation(Path.of("/usr/lib/postgresql/15/bin"));

    @Test
    void keyNamesTheVersionAndDependsOnOutputAndBinDir() {
        String k = ConfigTemplates.keyFor("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", PG.binDir());
        assertEquals("pg15.18-", k.substring(0, 8));
        assertEquals(20, k.length());
        assertNotEquals(k, ConfigTemplates.keyFor("postgres (PostgreSQL) 15.8 (PolarDB 15.8.2.0 build x)", PG.binDir()));
        assertNotEquals(k, ConfigTemplates.keyFor("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)",
                Path.of("/opt/pg/bin")));
    }

    @Test
    void theVersionIsRunOnceAndTheTemplateReusedWhenComplete() {
        RecordingExecutor ex = new RecordingExecutor("node3");
        ex.on("/usr/lib/postgresql/15/bin/postgres", "--version").stdout("postgres (PostgreSQL) 15.18\n");
        ex.on("test").exit(0);
        ConfigTemplates t = ConfigTemplates.forHost(ex, PG, Path.of("/var/cache/polarscale"), "postgres");
        Path dir = t.templateDir();
        t.templateDir();
        assertEquals(Path.of("/var/cache/polarscale", t.versionKey()), dir);
        assertEquals(1, ex.argvs().stream().filter(a -> a.get(0).endsWith("/postgres")).count());
        assertEquals(List.of("test", "-f", dir + "/postgresql.conf"), ex.argvs().get(1));
        assertEquals(0, ex.argvs().stream().filter(a -> a.get(0).endsWith("/initdb")).count());
    }

    @Test
    void losingTheRenameRaceUsesTheWinnersTemplate() {
        RecordingExecutor ex = new RecordingExecutor("node3");
        ex.on("/usr/lib/postgresql/15/bin/postgres", "--version").stdout("postgres (PostgreSQL) 15.18\n");
        ex.on("test").exit(1).exit(0); // absent before (first probe), present after the lost mv
        ex.on("id", "-u").stdout("0\n");
        ex.on("id", "-gn").stdout("postgres\n");
        ex.on("install").exit(0);
        ex.on("stat").stdout("postgres:700\n");
        ex.on("mkdir").exit(0);
        ex.on("sh").exit(0);
        ex.on("/usr/lib/postgresql/15/bin/initdb").exit(0);
        ex.on("cp").exit(0);
        ex.on("rm").exit(0);
        ex.on("mv").reply(1, "", "mv: cannot move: Directory not empty\n");
        ConfigTemplates t = ConfigTemplates.forHost(ex, PG, Path.of("/var/cache/polarscale"), "postgres");
        Path dir = t.templateDir();
        assertEquals(Path.of("/var/cache/polarscale", t.versionKey()), dir);
        List<String> initdb = ex.argvs().stream().filter(a -> a.get(0).endsWith("/initdb")).findFirst().orElseThrow();
        assertEquals(List.of("-U", "postgres"), initdb.subList(3, 5));
        assertTrue(initdb.get(5).startsWith("--pwfile="), initdb.toString());
        assertEquals(List.of("--auth-local=peer", "--auth-host=scram-sha-256", "--no-sync"), initdb.subList(6, 9),
                "the template's pg_hba.conf carries no trust rules");
        String pwfile = initdb.get(5).substring("--pwfile=".length());
        int rmPw = indexOf(ex.argvs(), a -> a.get(0).equals("rm") && a.contains(pwfile));
        int mvAt = indexOf(ex.argvs(), a -> a.get(0).equals("mv"));
        assertTrue(rmPw >= 0 && rmPw < mvAt, "the password file is gone before the template is moved into place");
        List<String> mv = ex.argvs().stream().filter(a -> a.get(0).equals("mv")).findFirst().orElseThrow();
        assertEquals(List.of("mv", "-T", "--"), mv.subList(0, 3));
        assertEquals(dir.toString(), mv.get(4));
        // the temporary directory is removed in the end
        List<String> last = ex.argvs().get(ex.argvs().size() - 1);
        assertEquals(List.of("rm", "-rf", "--", mv.get(3)), last);
        ex.commands().stream().filter(c -> !c.program().equals("id") && !c.program().equals("install")
                        && !c.program().equals("stat") && !c.program().endsWith("/postgres"))
                .forEach(c -> assertEquals(java.util.Optional.of("postgres"), c.runAs(), c.toString()));
    }

    @Test
    void rejectsRootAndUnsafeCacheDirs() {
        RecordingExecutor ex = new RecordingExecutor("h");
        assertThrows(IllegalArgumentException.class,
                () -> ConfigTemplates.forHost(ex, PG, Path.of("/var/cache/x"), "root"));
        assertThrows(IllegalArgumentException.class,
                () -> ConfigTemplates.forHost(ex, PG, Path.of("cache"), "postgres"));
        assertThrows(IllegalArgumentException.class,
                () -> ConfigTemplates.forHost(ex, PG, Path.of("/var/cache/a b"), "postgres"));
    }

    private static int indexOf(List<List<String>> argvs, java.util.function.Predicate<List<String>> p) {
        for (int i = 0; i < argvs.size(); i++) {
            if (p.test(argvs.get(i))) {
                return i;
            }
        }
        return -1;
    }
}
