package dev.polarscale.examples.cli;

import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.Executors;
import dev.polarscale.core.Names;
import dev.polarscale.core.PgInstallation;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.ScaleListener;
import dev.polarscale.storage.DeviceName;
import dev.polarscale.storage.Pfs;
import dev.polarscale.storage.PfsPath;
import dev.polarscale.storage.SharedStorage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A cluster file, read and checked: the {@link ClusterSpec} it describes (secrets resolved from
 * their references) and the executors of its hosts, which this object owns and closes. Nothing
 * runs on any host while it is read. The format is in {@code polarscale.example.yaml} beside this
 * class (shown by {@code polarscale --help}) and in the README.
 */
final class ClusterFile implements AutoCloseable {
    static final List<String> TOP_KEYS = List.of("primary", "hosts", "installation", "osUser", "storage", "superuser",
            "replication", "timeouts", "maxWalSenders", "controlAddress");

    private final String name;
    private final ClusterSpec.Builder spec;
    private final List<CommandExecutor> executors;

    private ClusterFile(String name, ClusterSpec.Builder spec, List<CommandExecutor> executors) {
        this.name = name;
        this.spec = spec;
        this.executors = executors;
    }

    /** Reads and checks the file. */
    static ClusterFile load(Path file, SecretSource secrets) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ClusterFileException(file.toString(), 0, "", "cannot read the cluster file: "
                    + (Files.exists(file) ? e.getMessage() : "no such file"));
        }
        Path dir = file.toAbsolutePath().getParent();
        return parse(text, file.toString(), dir == null ? Path.of("/") : dir, secrets);
    }

    /**
     * Checks a cluster file's text.
     *
     * @param name the file's name for messages
     * @param base the directory relative local file names are resolved against
     */
    static ClusterFile parse(String text, String name, Path base, SecretSource secrets) {
        YamlMap root = YamlMap.parse(text, name, base).allow(TOP_KEYS.toArray(String[]::new));
        ClusterSpec.Builder b = ClusterSpec.builder();
        Map<String, CommandExecutor> hosts = root.optMap("hosts").map(h -> ClusterHosts.parse(h, secrets))
                .orElse(Map.of());
        List<CommandExecutor> owned = distinct(hosts.values());
        try {
            hosts.forEach(b::host);
            String primaryHost = primary(root.map("primary"), b);
            if (!hosts.containsKey(primaryHost) && !Executors.isLoopback(primaryHost)) {
                throw root.map("primary").error("host", "'" + primaryHost + "' has no entry under hosts: (only "
                        + "127.0.0.1, localhost and ::1 are this machine without one)");
            }
            root.optAbsolutePath("installation").ifPresent(p -> b.installation(new PgInstallation(p)));
            root.optString("osUser").ifPresent(u -> root.check("osUser", () -> b.osUser(u)));
            storage(root, b);
            YamlMap su = root.map("superuser").allow("name", "password");
            su.optString("name").ifPresent(n -> su.check("name", () -> b.superuser(n)));
            String superPw = su.secret("password", secrets);
            su.check("password", () -> b.superuserPassword(superPw));
            YamlMap repl = root.map("replication").allow("user", "password", "allowFrom");
            repl.optString("user").ifPresent(u -> repl.check("user", () -> b.replicationUser(u)));
            String replPw = repl.secret("password", secrets);
            repl.check("password", () -> b.replicationPassword(replPw));
            for (String cidr : repl.strings("allowFrom")) {
                repl.check("allowFrom", () -> b.allowReplicationFrom(cidr));
            }
            root.optMap("timeouts").ifPresent(t -> {
                t.allow("lock", "verify");
                t.optDuration("lock").ifPresent(b::lockTimeout);
                t.optDuration("verify").ifPresent(b::verifyTimeout);
            });
            root.optInteger("maxWalSenders", 2, ClusterSpec.Builder.MAX_WAL_SENDERS_LIMIT).ifPresent(b::maxWalSenders);
            root.optString("controlAddress").ifPresent(a -> root.check("controlAddress", () -> b.controlAddress(a)));
            root.check(root.has("hosts") ? "hosts" : "primary", b::build); // rules across sections
            return new ClusterFile(name, b, owned);
        } catch (RuntimeException e) {
            owned.forEach(CommandExecutor::close);
            throw e;
        }
    }

    /** {@code primary: {name, host, port, dataDirectory}}; returns the host. */
    private static String primary(YamlMap p, ClusterSpec.Builder b) {
        p.allow("name", "host", "port", "dataDirectory");
        String name = p.string("name");
        p.check("name", () -> Names.requireNodeName(name, "primary name"));
        String host = p.string("host");
        p.check("host", () -> NodeSpec.builder().host(host));
        int port = p.integer("port", 1, 65535);
        Path dir = p.absolutePath("dataDirectory");
        p.check("dataDirectory", () -> b.primary(name, host, port, dir));
        return host;
    }

    /**
     * {@code storage: none} (the default), {@code storage: {localfs: {directory, osUser}}} or
     * {@code storage: {pfs: {device, directory, cluster, pfsdBinDir, workers, timeout}}}.
     */
    private static void storage(YamlMap root, ClusterSpec.Builder b) {
        if (!root.has("storage")) {
            return;
        }
        if (root.isScalar("storage")) {
            String v = root.string("storage");
            if (!v.equals("none")) {
                throw root.error("storage", "'" + v + "' is not none, localfs: {...} or pfs: {...}");
            }
            return;
        }
        YamlMap s = root.map("storage").allow("localfs", "pfs");
        if (s.keys().size() != 1) {
            throw s.error("give exactly one of localfs: {...} or pfs: {...}");
        }
        if (s.has("localfs")) {
            YamlMap l = s.map("localfs").allow("directory", "osUser");
            Path dir = l.absolutePath("directory");
            String user = l.string("osUser");
            b.sharedStorage(l.check("osUser", () -> SharedStorage.localFileSystem(dir, user)));
            return;
        }
        YamlMap p = s.map("pfs").allow("device", "directory", "cluster", "pfsdBinDir", "workers", "timeout");
        Pfs.Builder pfs = Pfs.builder();
        p.optString("cluster").ifPresent(c -> p.check("cluster", () -> pfs.clusterName(c)));
        p.optAbsolutePath("pfsdBinDir").ifPresent(pfs::pfsdBinDir);
        p.optInteger("workers", 1, 64).ifPresent(pfs::workers);
        p.optDuration("timeout").ifPresent(pfs::timeout);
        String device = p.string("device");
        DeviceName disk = p.check("device", () -> DeviceName.of(device));
        String dir = p.string("directory");
        PfsPath path = p.check("directory", () -> PfsPath.of("/" + disk.name() + "/" + dir));
        b.sharedStorage(SharedStorage.pfs(pfs.build(), path, 0));
    }

    /** The file's name as given. */
    String name() {
        return name;
    }

    /** The cluster's spec, reporting each step to {@code listener}. */
    ClusterSpec spec(ScaleListener listener) {
        return spec.listener(listener).build();
    }

    /** Closes the hosts' executors (after the scaler that used them). */
    @Override
    public void close() {
        executors.forEach(CommandExecutor::close);
    }

    private static List<CommandExecutor> distinct(Iterable<CommandExecutor> all) {
        Set<CommandExecutor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<CommandExecutor> out = new ArrayList<>();
        for (CommandExecutor e : all) {
            if (seen.add(e)) {
                out.add(e);
            }
        }
        return out;
    }
}
