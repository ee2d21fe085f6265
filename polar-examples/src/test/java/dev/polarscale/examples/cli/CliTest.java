package dev.polarscale.examples.cli;

import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.ScaleListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line in-process ({@code CommandLine.execute}) for what runs no server: help, usage
 * errors and their exit code, {@code init}. The operations themselves are in {@code CliIT}.
 */
class CliTest {

    record Result(int code, String out, String err) {
    }

    static Result run(SecretSource secrets, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = PolarScaleCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), false, true, secrets)
                .execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    static Result run(String... args) {
        return run(SecretSource.withEnvironment(Map.of()), args);
    }

    @Test
    void helpShowsACompleteExampleAndTheExitCodes() {
        Result r = run("--help");
        assertEquals(0, r.code(), r.err());
        for (String line : PolarScaleCli.exampleFile().lines().toList()) {
            assertTrue(r.out().contains("  " + line), "example line in help: " + line + "\n" + r.out());
        }
        for (String line : ExitCodes.table()) {
            assertTrue(r.out().contains(line), line);
        }
        for (String cmd : new String[]{"init", "plan", "deploy", "adopt", "add", "remove", "status", "stop"}) {
            assertTrue(r.out().contains("\n  " + cmd + " "), cmd + " listed");
        }
        assertTrue(r.out().lines().allMatch(l -> l.length() <= 80), "fits 80 columns:\n" + r.out());
    }

    @Test
    void theReadmeShowsTheSameExampleFile() throws IOException {
        String readme = Files.readString(Path.of("").toAbsolutePath().getParent().resolve("README.md"));
        assertTrue(readme.contains(PolarScaleCli.exampleFile()), "README holds polarscale.example.yaml verbatim");
    }

    @Test
    void subcommandHelp() {
        Result r = run("add", "standby", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("--name=NAME") && r.out().contains("--data-dir=DIR")
                && r.out().contains("--cluster-file=FILE"), r.out());
    }

    @Test
    void usageErrorsExit64AndSayWhatIsWrong() {
        Result none = run();
        assertEquals(64, none.code());
        assertTrue(none.err().contains("Usage: polarscale"), none.err());

        Result unknown = run("deplyo");
        assertEquals(64, unknown.code());
        assertTrue(unknown.err().contains("Unmatched argument") && unknown.err().contains("deploy"), unknown.err());

        Result noKind = run("add");
        assertEquals(64, noKind.code());
        assertTrue(noKind.err().contains("standby or replica"), noKind.err());

        Result noName = run("add", "standby", "--port", "5433");
        assertEquals(64, noName.code());
        assertTrue(noName.err().contains("Missing required option: '--name=NAME'"), noName.err());

        Result badPort = run("add", "standby", "--name", "s1", "--port", "x");
        assertEquals(64, badPort.code());
        assertTrue(badPort.err().contains("'x' is not an int"), badPort.err());

        Result badWait = run("remove", "s1", "--slot-wait", "0s");
        assertEquals(64, badWait.code());
        assertTrue(badWait.err().contains("'0s' is not a positive duration"), badWait.err());

        Result noPlan = run("plan");
        assertEquals(64, noPlan.code());
        assertTrue(noPlan.err().contains("which operation to plan"), noPlan.err());
    }

    @Test
    void aMissingOrBadClusterFileExits64NamingIt(@TempDir Path dir) throws IOException {
        Result missing = run("-f", dir.resolve("none.yaml").toString(), "status");
        assertEquals(64, missing.code());
        assertTrue(missing.err().contains(dir.resolve("none.yaml") + ": cannot read the cluster file"), missing.err());

        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "primary:\n  name: primary\n  hots: 127.0.0.1\n");
        Result r = run("status", "-f", bad.toString());
        assertEquals(64, r.code());
        assertTrue(r.err().contains(bad + ":3: primary.hots: unknown key in primary"), r.err());
        assertEquals("", r.out());

        Result none = run(SecretSource.withEnvironment(Map.of()), "status");
        assertEquals(64, none.code());
        assertTrue(none.err().contains("no cluster file: name one with -f FILE or $POLARSCALE_CLUSTER_FILE"),
                none.err());
    }

    @Test
    void optionsAreCheckedBeforeAnythingRuns(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "primary: {name: p, host: 127.0.0.1, port: 1, dataDirectory: /nonexistent/p}\n"
                + "superuser: {password: {env: A}}\nreplication: {password: {env: B}}\n");
        SecretSource env = SecretSource.withEnvironment(Map.of("A", "aaaaaaaa", "B", "bbbbbbbb",
                "POLARSCALE_CLUSTER_FILE", file.toString()));
        Result count = run(env, "status", "--count", "2");
        assertEquals(64, count.code());
        assertTrue(count.err().contains("--count goes with --watch"), count.err());

        Result follower = run(env, "plan", "adopt", "--follower", "name=s1,port=5432,dir=/x");
        assertEquals(64, follower.code());
        assertTrue(follower.err().contains("'dir=/x' is not one of name=, host=, port=, data-dir="), follower.err());

        Result relative = run(env, "plan", "add", "standby", "--name", "s1", "--port", "2", "--data-dir", "rel/s1");
        assertEquals(64, relative.code());
        assertTrue(relative.err().contains("rel/s1"), relative.err());
        assertFalse(Files.exists(Path.of("/nonexistent")));
    }

    @Test
    void initWritesALocalClusterFileWithOwnerOnlyPasswordFiles(@TempDir Path dir) throws IOException {
        Path d = dir.resolve("try");
        Result r = run("init", d.toString(), "--port", "55999");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("next: polarscale -f " + d.resolve("cluster.yaml") + " deploy"), r.out());
        assertEquals("rwx--x--x", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)));
        for (String pw : new String[]{"superuser.password", "replication.password"}) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.resolve(pw))));
        }
        try (ClusterFile f = ClusterFile.load(d.resolve("cluster.yaml"), SecretSource.SYSTEM)) {
            ClusterSpec s = f.spec(ScaleListener.NONE);
            assertEquals(55999, s.primaryPort().value());
            assertEquals(d.resolve("primary"), s.primaryDataDirectory());
            assertEquals(Files.readString(d.resolve("superuser.password")).strip(), s.superuserPassword());
            assertEquals(24, s.replicationPassword().length());
        }
        Result again = run("init", d.toString());
        assertEquals(64, again.code());
        assertTrue(again.err().contains("is not empty"), again.err());
    }
}
