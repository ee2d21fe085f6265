package dev.polarscale.examples.cli;

import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.ScaleListener;
import dev.polarscale.storage.PfsSharedStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The cluster file parser: what a valid file becomes, and for each kind of mistake the file, line,
 * key and value in the message. No process runs: building a spec and its executors touches no host.
 */
class ClusterFileTest {
    private static final String PRIMARY = """
            primary:
              name: primary
              host: 127.0.0.1
              port: 5432
              dataDirectory: /srv/polar/primary
            """;
    private static final String SECRETS = """
            superuser:
              password: {env: SUPER_PW}
            replication:
              password: {env: REPL_PW}
            """;
    private static final SecretSource ENV = SecretSource.withEnvironment(Map.of("SUPER_PW", "super-secret-1",
            "REPL_PW", "repl-secret-1", "PASS", "key-passphrase"));

    private static ClusterFile parse(String yaml) {
        return ClusterFile.parse(yaml, "c.yaml", Path.of("/etc/polarscale"), ENV);
    }

    private static ClusterFileException refused(String yaml) {
        return assertThrows(ClusterFileException.class, () -> parse(yaml).close(), yaml);
    }

    @Test
    void aMinimalFileIsALocalClusterWithTheGivenPasswords() {
        try (ClusterFile f = parse(PRIMARY + SECRETS)) {
            ClusterSpec s = f.spec(ScaleListener.NONE);
            assertEquals("primary", s.primaryName());
            assertEquals("127.0.0.1", s.primaryHost());
            assertEquals(5432, s.primaryPort().value());
            assertEquals(Path.of("/srv/polar/primary"), s.primaryDataDirectory());
            assertEquals("super-secret-1", s.superuserPassword());
            assertEquals("repl-secret-1", s.replicationPassword());
            assertTrue(s.superuserPasswordGiven() && s.replicationPasswordGiven());
            assertEquals(List.of("127.0.0.1"), List.copyOf(s.hosts().keySet()));
            assertTrue(s.sharedStorage().isEmpty());
            assertTrue(s.installation().isEmpty());
        }
    }

    @Test
    void theExampleOfTheHelpIsAValidFile() {
        SecretSource any = new SecretSource() {
            @Override
            public String env(String name) {
                return "env-" + name;
            }

            @Override
            public String file(Path file) {
                return "file-" + file.getFileName();
            }
        };
        try (ClusterFile f = ClusterFile.parse(PolarScaleCli.exampleFile(), "example.yaml", Path.of("/"), any)) {
            ClusterSpec s = f.spec(ScaleListener.NONE);
            assertEquals(java.util.Set.of("10.0.0.1", "10.0.0.2", "10.0.0.11"), s.hosts().keySet());
            assertTrue(s.executor("10.0.0.2").toString().contains("10.0.0.2"), s.executor("10.0.0.2").toString());
            assertEquals("env-PGPASSWORD", s.superuserPassword());
            assertEquals("file-replication.password", s.replicationPassword());
            assertEquals(Duration.ofSeconds(60), s.lockTimeout());
            assertEquals(Path.of("/usr/lib/postgresql/15/bin"), s.installation().orElseThrow().binDir());
        }
    }

    @Test
    void everySectionIsRead() {
        String yaml = """
                primary: {name: primary, host: 10.0.0.1, port: 5433, dataDirectory: /data/primary}
                hosts:
                  10.0.0.1: {ssh: {user: polar, keyFile: id_ed25519, keyPassphrase: {env: PASS}, port: 2222,
                             knownHosts: known_hosts, connectTimeout: 5s}}
                  10.0.0.3: {container: {runtime: kubectl, name: pg-0, namespace: db, podContainer: postgres}}
                installation: /opt/polardb/bin
                osUser: polar
                storage:
                  pfs: {device: /dev/nvme1n1, directory: shared_data, cluster: disk, workers: 1, timeout: 5m}
                superuser: {name: admin, password: {env: SUPER_PW}}
                replication: {user: repl, password: {env: REPL_PW}, allowFrom: [10.0.0.0/24]}
                timeouts: {lock: 500ms, verify: 2m}
                maxWalSenders: 8
                controlAddress: 10.0.0.100
                """;
        try (ClusterFile f = parse(yaml)) {
            ClusterSpec s = f.spec(ScaleListener.NONE);
            assertEquals(5433, s.primaryPort().value());
            assertEquals("admin", s.superuser());
            assertEquals("repl", s.replicationUser());
            assertEquals(List.of("10.0.0.0/24"), s.replicationCidrs());
            assertEquals(Duration.ofMillis(500), s.lockTimeout());
            assertEquals(Duration.ofMinutes(2), s.verifyTimeout());
            assertEquals(8, s.maxWalSenders());
            assertEquals("polar", s.osUser().orElseThrow());
            assertEquals("10.0.0.100", s.controlAddress().orElseThrow());
            PfsSharedStorage pfs = (PfsSharedStorage) s.sharedStorage().orElseThrow();
            assertEquals("/nvme1n1/shared_data", pfs.directory().toString());
            assertEquals(1, pfs.pfs().workers());
            String ssh = s.executor("10.0.0.1").toString();
            assertTrue(ssh.contains("2222") && ssh.contains("/etc/polarscale/id_ed25519")
                    && ssh.contains("/etc/polarscale/known_hosts"), "relative files beside the cluster file: " + ssh);
            assertFalse(ssh.contains("key-passphrase"), ssh);
            assertTrue(s.executor("10.0.0.3").toString().contains("kubectl"), s.executor("10.0.0.3").toString());
        }
    }

    @Test
    void secretFilesAreReadBesideTheClusterFileWithoutTheirLineBreak(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("su.pw"), "from-a-file-1\n");
        Files.setPosixFilePermissions(dir.resolve("su.pw"), PosixFilePermissions.fromString("rw-------"));
        Files.writeString(dir.resolve("repl.pw"), "repl-file-22\r\n");
        Files.setPosixFilePermissions(dir.resolve("repl.pw"), PosixFilePermissions.fromString("rw-r-----"));
        Path file = dir.resolve("cluster.yaml");
        Files.writeString(file, PRIMARY + """
                superuser: {password: {file: su.pw}}
                replication: {password: {file: %s}}
                """.formatted(dir.resolve("repl.pw")));
        try (ClusterFile f = ClusterFile.load(file, SecretSource.SYSTEM)) {
            ClusterSpec s = f.spec(ScaleListener.NONE);
            assertEquals("from-a-file-1", s.superuserPassword());
            assertEquals("repl-file-22", s.replicationPassword());
        }
    }

    @Test
    void aSecretFileEveryUserCanReadIsRefused(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("su.pw"), "from-a-file-1\n");
        Files.setPosixFilePermissions(dir.resolve("su.pw"), PosixFilePermissions.fromString("rw-r--r--"));
        Path file = dir.resolve("cluster.yaml");
        Files.writeString(file, PRIMARY + "superuser: {password: {file: su.pw}}\nreplication: {password: {env: X}}\n");
        ClusterFileException e = assertThrows(ClusterFileException.class,
                () -> ClusterFile.load(file, SecretSource.SYSTEM));
        assertEquals("superuser.password.file", e.key(), e.getMessage());
        assertEquals(6, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("readable by every user") && e.getMessage().contains("chmod"),
                e.getMessage());
        assertFalse(e.getMessage().contains("from-a-file"), e.getMessage());
    }

    @Test
    void aMissingFileIsNamed(@TempDir Path dir) {
        ClusterFileException e = assertThrows(ClusterFileException.class,
                () -> ClusterFile.load(dir.resolve("nope.yaml"), SecretSource.SYSTEM));
        assertTrue(e.getMessage().startsWith(dir.resolve("nope.yaml") + ": cannot read the cluster file: no such file"),
                e.getMessage());
    }

    /** yaml, the line and key the message must name, a piece of its text. */
    static Stream<org.junit.jupiter.params.provider.Arguments> mistakes() {
        return Stream.of(
                arguments("", 0, "", "the file is empty"),
                arguments("primary: [a\n", 2, "", "not valid YAML"),
                arguments("- primary\n", 1, "", "expected keys"),
                arguments(PRIMARY + SECRETS + "primay: x\n", 10, "primay", "unknown key (known: primary, hosts"),
                arguments(SECRETS, 1, "primary", "missing"),
                arguments(PRIMARY.replace("  dataDirectory: /srv/polar/primary\n", "") + SECRETS, 2,
                        "primary.dataDirectory", "missing in primary"),
                arguments(PRIMARY.replace("port: 5432", "prot: 5432") + SECRETS, 4, "primary.prot",
                        "unknown key in primary (known: name, host, port, dataDirectory)"),
                arguments(PRIMARY.replace("5432", "99999") + SECRETS, 4, "primary.port", "'99999' is not a whole number"),
                arguments(PRIMARY.replace("5432", "") + SECRETS, 4, "primary.port", "has no value"),
                arguments(PRIMARY.replace("/srv/polar/primary", "srv/primary") + SECRETS, 5, "primary.dataDirectory",
                        "'srv/primary' is not an absolute path"),
                arguments(PRIMARY.replace("name: primary", "name: Primary") + SECRETS, 2, "primary.name",
                        "invalid primary name 'Primary'"),
                arguments(PRIMARY.replace("host: 127.0.0.1", "host: 10.9.9.9") + SECRETS, 3, "primary.host",
                        "'10.9.9.9' has no entry under hosts"),
                arguments(PRIMARY.replace("name: primary", "name: [a, b]") + SECRETS, 2, "primary.name",
                        "expected a single value, found a list"),
                arguments(PRIMARY + SECRETS + "primary: {}\n", 10, "primary", "duplicate key"),
                arguments(PRIMARY + SECRETS.replace("{env: SUPER_PW}", "hunter2hunter2"), 7, "superuser.password",
                        "an inline secret is refused"),
                arguments(PRIMARY + SECRETS.replace("{env: SUPER_PW}", "{env: NOT_SET}"), 7, "superuser.password.env",
                        "environment variable NOT_SET is not set"),
                arguments(PRIMARY + SECRETS.replace("{env: SUPER_PW}", "{env: SUPER_PW, file: x}"), 7,
                        "superuser.password", "exactly one of"),
                arguments(PRIMARY + SECRETS.replace("{env: SUPER_PW}", "{vault: x}"), 7, "superuser.password.vault",
                        "unknown key in superuser.password (known: env, file)"),
                arguments(PRIMARY + SECRETS.replace("{env: REPL_PW}", "{file: /nonexistent/pw}"), 9,
                        "replication.password.file", "no such file: /nonexistent/pw"),
                arguments(PRIMARY + "superuser: {password: {env: SHORT}}\n" + SECRETS.substring(SECRETS.indexOf("repl")),
                        6, "superuser.password.env", "SHORT is not set"),
                arguments(PRIMARY + SECRETS.replace("replication:\n  password: {env: REPL_PW}\n", ""), 1, "replication",
                        "missing"),
                arguments(PRIMARY + SECRETS + "replication2: x\n", 10, "replication2", "unknown key"),
                arguments(PRIMARY + SECRETS + "hosts:\n  127.0.0.1: remote\n", 11, "hosts.\"127.0.0.1\"",
                        "'remote' is not a way to reach a host"),
                arguments(PRIMARY + SECRETS + "hosts:\n  bad_host!: local\n", 11, "hosts.\"bad_host!\"", "invalid host"),
                arguments(PRIMARY + SECRETS + "hosts:\n  10.0.0.2: {ssh: {keyFile: k}}\n", 11,
                        "hosts.\"10.0.0.2\".ssh.user", "missing"),
                arguments(PRIMARY + SECRETS + "hosts:\n  10.0.0.2: {ssh: {user: polar}}\n", 11,
                        "hosts.\"10.0.0.2\".ssh", "give keyFile"),
                arguments(PRIMARY + SECRETS + "hosts:\n  10.0.0.2: {ssh: {user: polar, keyPassphrase: {env: PASS}}}\n",
                        11, "hosts.\"10.0.0.2\".ssh.keyPassphrase", "a passphrase without keyFile"),
                arguments(PRIMARY + SECRETS + "hosts:\n  10.0.0.2: {ssh: {user: polar, password: secret123}}\n", 11,
                        "hosts.\"10.0.0.2\".ssh.password", "an inline secret is refused"),
                arguments(PRIMARY + SECRETS + "hosts:\n  10.0.0.2: {ssh: {user: polar, keyFile: k, hostKey: any}}\n",
                        11, "hosts.\"10.0.0.2\".ssh.hostKey", "unknown key"),
                arguments(PRIMARY + SECRETS + "hosts:\n  10.0.0.2: {ssh: {user: polar, keyFile: k}, container: {}}\n",
                        11, "hosts.\"10.0.0.2\"", "exactly one of ssh"),
                arguments(PRIMARY + SECRETS + "hosts:\n  10.0.0.2: {container: {runtime: lxc, name: c1}}\n", 11,
                        "hosts.\"10.0.0.2\".container.runtime", "'lxc' is not one of docker, podman, kubectl"),
                arguments(PRIMARY + SECRETS + "hosts:\n  10.0.0.2: {container: {runtime: podman, name: c1, via: 10.0.0.9}}\n",
                        11, "hosts.\"10.0.0.2\".container.via", "'10.0.0.9' is neither local nor"),
                arguments(PRIMARY + SECRETS + "hosts:\n  10.0.0.2: {container: {runtime: podman, name: -x}}\n", 11,
                        "hosts.\"10.0.0.2\".container.name", "invalid container name"),
                arguments(PRIMARY + SECRETS + "storage: nfs\n", 10, "storage", "'nfs' is not none, localfs"),
                arguments(PRIMARY + SECRETS + "storage:\n  localfs: {directory: /srv/shared}\n", 11,
                        "storage.localfs.osUser", "missing"),
                arguments(PRIMARY + SECRETS + "storage:\n  pfs: {device: ../sda, directory: d}\n", 11,
                        "storage.pfs.device", "invalid block device name"),
                arguments(PRIMARY + SECRETS + "installation: bin\n", 10, "installation", "not an absolute path"),
                arguments(PRIMARY + SECRETS + "osUser: root\n", 10, "osUser", "cannot run as root"),
                arguments(PRIMARY + SECRETS + "timeouts: {verify: 60}\n", 10, "timeouts.verify",
                        "'60' is not a positive duration"),
                arguments(PRIMARY + SECRETS + "timeouts: {wait: 60s}\n", 10, "timeouts.wait", "unknown key"),
                arguments(PRIMARY + SECRETS + "maxWalSenders: 1\n", 10, "maxWalSenders", "'1' is not a whole number in 2.."),
                arguments(PRIMARY + SECRETS + "  allowFrom: [10.0.0.0/8, 0.0.0.0/0]\n", 10, "replication.allowFrom",
                        "0.0.0.0/0"));
    }

    @ParameterizedTest
    @MethodSource("mistakes")
    void eachMistakeNamesTheFileLineAndKey(String yaml, int line, String key, String text) {
        ClusterFileException e = refused(yaml);
        assertEquals(key, e.key(), e.getMessage());
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().startsWith("c.yaml" + (line > 0 ? ":" + line : "") + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(text), "'" + text + "' in: " + e.getMessage());
        assertFalse(e.getMessage().contains("super-secret-1") || e.getMessage().contains("repl-secret-1"),
                "no secret in: " + e.getMessage());
    }

    @Test
    void aGlobalTagIsRefusedAndNothingIsInstantiated() {
        ClusterFileException e = refused(PRIMARY + SECRETS + "osUser: !!javax.script.ScriptEngineManager [x]\n");
        assertEquals(10, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("not valid YAML: Global tag is not allowed"), e.getMessage());
    }
}
