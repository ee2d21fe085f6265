package dev.polarscale.examples.cli;

import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.ContainerTarget;
import dev.polarscale.core.Executors;
import dev.polarscale.core.SshTarget;
import dev.polarscale.replication.NodeSpec;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code hosts:} section of a cluster file: each host address (as nodes name it) with how
 * commands reach it.
 *
 * <pre>
 * hosts:
 *   127.0.0.1: local
 *   10.0.0.2:
 *     ssh: {user: polar, keyFile: /etc/polarscale/id_ed25519, knownHosts: /etc/polarscale/known_hosts}
 *   127.0.0.2:
 *     container: {runtime: podman, name: standby-box, via: local}
 * </pre>
 *
 * Building the executors runs nothing and reads no file: an SSH executor connects (and reads its
 * key) on first use.
 */
final class ClusterHosts {
    static final List<String> SSH_KEYS = List.of("address", "port", "user", "keyFile", "keyPassphrase", "password",
            "knownHosts", "connectTimeout");
    static final List<String> CONTAINER_KEYS = List.of("runtime", "name", "via", "namespace", "podContainer", "binary");

    private final Map<String, CommandExecutor> executors = new LinkedHashMap<>();
    private final java.util.Set<String> containers = new java.util.HashSet<>();
    private CommandExecutor local;

    private ClusterHosts() {
    }

    /**
     * The executor of every host of the section, in file order; whoever gets them closes them.
     * Containers come last in the parse, so {@code via} may name an SSH host written after them.
     */
    static Map<String, CommandExecutor> parse(YamlMap hosts, SecretSource secrets) {
        ClusterHosts h = new ClusterHosts();
        try {
            Map<String, YamlMap> containers = new LinkedHashMap<>();
            for (String host : hosts.keys()) {
                hosts.check(host, () -> NodeSpec.builder().host(host));
                if (hosts.isScalar(host)) {
                    String kind = hosts.string(host);
                    if (!kind.equals("local")) {
                        throw hosts.error(host, "'" + kind + "' is not a way to reach a host: give local, "
                                + "ssh: {...} or container: {...}");
                    }
                    h.executors.put(host, h.local());
                    continue;
                }
                YamlMap entry = hosts.map(host).allow("ssh", "container");
                if (entry.keys().size() != 1) {
                    throw entry.error("give exactly one of ssh: {...} or container: {...}");
                }
                if (entry.has("ssh")) {
                    h.executors.put(host, Executors.ssh(ssh(host, entry.map("ssh"), secrets)));
                } else {
                    containers.put(host, entry.map("container"));
                    h.containers.add(host);
                    h.executors.put(host, null); // keeps the file's order
                }
            }
            containers.forEach((host, c) -> h.executors.put(host, h.container(c)));
            return h.executors;
        } catch (RuntimeException e) {
            h.executors.values().stream().filter(x -> x != null && x != h.local).forEach(CommandExecutor::close);
            if (h.local != null) {
                h.local.close();
            }
            throw e;
        }
    }

    private CommandExecutor local() {
        if (local == null) {
            local = Executors.local();
        }
        return local;
    }

    private static SshTarget ssh(String host, YamlMap ssh, SecretSource secrets) {
        ssh.allow(SSH_KEYS.toArray(String[]::new));
        SshTarget.Builder t = SshTarget.builder();
        String address = ssh.optString("address").orElse(host);
        ssh.check("address", () -> t.host(address));
        ssh.optInteger("port", 1, 65535).ifPresent(t::port);
        String user = ssh.string("user");
        ssh.check("user", () -> t.user(user));
        Path key = ssh.optLocalFile("keyFile").orElse(null);
        if (ssh.has("keyPassphrase")) {
            if (key == null) {
                throw ssh.error("keyPassphrase", "a passphrase without keyFile");
            }
            String passphrase = ssh.secret("keyPassphrase", secrets);
            ssh.check("keyPassphrase", () -> t.privateKeyFile(key, passphrase));
        } else if (key != null) {
            t.privateKeyFile(key);
        }
        if (ssh.has("password")) {
            String password = ssh.secret("password", secrets);
            ssh.check("password", () -> t.password(password));
        }
        ssh.optLocalFile("knownHosts").ifPresent(t::knownHostsFile);
        ssh.optDuration("connectTimeout").ifPresent(t::connectTimeout);
        if (key == null && !ssh.has("password")) {
            throw ssh.error("give keyFile (and keyPassphrase if the key has one) or password");
        }
        return t.build();
    }

    private CommandExecutor container(YamlMap c) {
        c.allow(CONTAINER_KEYS.toArray(String[]::new));
        String runtime = c.string("runtime");
        String name = c.string("name");
        ContainerTarget.Builder t = c.check("name", () -> switch (runtime) {
            case "docker" -> ContainerTarget.docker(name);
            case "podman" -> ContainerTarget.podman(name);
            case "kubectl" -> ContainerTarget.kubectl(name);
            default -> throw c.error("runtime", "'" + runtime + "' is not one of docker, podman, kubectl");
        });
        c.optString("namespace").ifPresent(n -> c.check("namespace", () -> t.namespace(n)));
        c.optString("podContainer").ifPresent(n -> c.check("podContainer", () -> t.container(n)));
        c.optString("binary").ifPresent(n -> c.check("binary", () -> t.binary(n)));
        String via = c.optString("via").orElse("local");
        CommandExecutor through;
        if (via.equals("local")) {
            through = local();
        } else {
            through = executors.get(via);
            if (through == null || containers.contains(via)) {
                throw c.error("via", "'" + via + "' is neither local nor a local or ssh host of this file");
            }
        }
        return Executors.container(through, t.build());
    }
}
