package dev.polarscale.core.rig;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns this machine into several hosts with Linux namespaces, for tests that need real remote
 * hosts: each host has its own network namespace and IPv4 address on a private bridge, its own
 * hostname, {@code /tmp}, {@code /var/tmp}, {@code /run}, {@code /dev/shm}, process table and
 * data directory ({@link #DATA_DIR}), and a real OpenSSH {@code sshd} on port 22 as its PID 1.
 * A shared directory ({@link #SHARED_DIR}) is bind-mounted into every host, as PolarDB's shared
 * storage is in local-file-system mode. The control JVM (this one) reaches the hosts at their
 * addresses from {@link #controlAddress()}; the hosts have no default route, so nothing they send
 * leaves the bridge.
 *
 * <pre>{@code
 * try (HostRig rig = HostRig.start(2)) {                      // skipped (JUnit assumption) where not permitted
 *     RigHost h0 = rig.host(0);
 *     try (CommandExecutor ssh = Executors.ssh(h0.sshTarget())) {   // root, rig key, strict known_hosts
 *         ssh.run(Command.of("hostname"));                           // "h0"
 *     }
 *     rig.kill(h0);                                           // every process of h0 dies: connections are refused
 * }                                                           // namespaces, links, processes, files: all gone
 * }</pre>
 *
 * <p><b>Needs</b> root, {@code ip netns}, {@code unshare}/{@code nsenter} and
 * {@code /usr/sbin/sshd} (Debian {@code openssh-server}; the system sshd is never started).
 * Where any of that is missing {@link #start(int)} aborts the test with the reason
 * ({@link #unavailableReason()}), so it is reported as skipped.
 *
 * <p><b>Names.</b> Rig {@code N} uses the subnet {@code 10.231.N.0/24} (N chosen free of every
 * route on the machine), the bridge {@code psrigN} with the control address {@code 10.231.N.1},
 * for host {@code k} the network namespace and root-side veth {@code psrigNhk} with address
 * {@code 10.231.N.(10+k)}, and the state directory {@code /var/tmp/polarscale-rig/rN}, whose
 * {@code owner} file names the JVM. Claiming that directory is atomic, so concurrent JVMs never
 * share a subnet.
 *
 * <p><b>Teardown.</b> {@link #close()} kills every process of every host, deletes the veths,
 * namespaces and bridge and the state directory; a JVM shutdown hook does the same if the test
 * never closes the rig, and every {@link #start} first removes rigs whose owning JVM is gone (by
 * the {@code psrig} name prefix and the owner file).
 */
public final class HostRig implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HostRig.class);

    /** Every bridge, veth and network namespace of a rig is named with this prefix. */
    public static final String NAME_PREFIX = "psrig";
    /** Where rigs keep their files (outside {@code /tmp}, which each host replaces with its own). */
    public static final Path STATE_ROOT = Path.of("/var/tmp/polarscale-rig");
    /** In every host: its private data directory (root-owned, mode 0755). */
    public static final Path DATA_DIR = Path.of("/srv/polar");
    /** In every host: the directory all hosts share (root-owned, mode 0755). */
    public static final Path SHARED_DIR = Path.of("/srv/shared");
    /** The most hosts one rig holds. */
    public static final int MAX_HOSTS = 100;
    /** Directories with server binaries on this machine, hidden by {@link #withoutServerBinaries}. */
    public static final List<Path> SERVER_BINARY_DIRS = List.of(Path.of("/usr/lib/postgresql"),
            Path.of("/var/cache/polarscale"));

    private static final Path SSHD = Path.of("/usr/sbin/sshd");
    private static final int FIRST_HOST_OCTET = 10;
    private static final Pattern RIG_NAME = Pattern.compile(NAME_PREFIX + "(\\d{1,3})(?:h(\\d{1,3}))?");
    private static final Pattern PROBE_NAME = Pattern.compile(NAME_PREFIX + "probe(\\d+)");
    private static final Pattern NS_LINK = Pattern.compile("[a-z]+:\\[(\\d+)\\]");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration HOST_START_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration KILL_TIMEOUT = Duration.ofSeconds(15);
    /** A claimed state directory without an owner file yet is in the middle of a start. */
    private static final Duration CLAIM_GRACE = Duration.ofMinutes(1);

    /**
     * PID 1 of a host: its hostname, a private /run (for sshd's privilege separation directory),
     * its /etc/ssh, /srv, /etc/hosts and /etc/shadow bound from the rig's files, fresh /dev/shm, /tmp and
     * /var/tmp (which hides the rig's state directory), then the directories that must stay
     * visible (binaries below a hidden path, moved back through /run), then sshd in the
     * foreground. Arguments: hostname, host directory, shared directory or "", hosts file,
     * directories to keep visible...
     */
    private static final String INIT_SCRIPT = String.join("\n",
            "set -eu",
            "hostname \"$1\"; hostdir=$2; shared=$3; hostsfile=$4; shift 4",
            "mount -t tmpfs -o mode=0755,size=64m rig-run /run",
            "mkdir -p /run/sshd /run/lock /run/rig-keep && chmod 1777 /run/lock",
            "i=0; for p in \"$@\"; do i=$((i+1)); mkdir /run/rig-keep/$i; mount --bind \"$p\" /run/rig-keep/$i; done",
            "mount --bind \"$hostdir/etc-ssh\" /etc/ssh",
            "mount --bind \"$hostdir/srv\" /srv",
            "if [ -n \"$shared\" ]; then mount --bind \"$shared\" " + SHARED_DIR + "; fi",
            "mount --bind \"$hostsfile\" /etc/hosts",
            "if [ -f \"$hostdir/shadow\" ]; then mount --bind \"$hostdir/shadow\" /etc/shadow; fi",
            "mount -t tmpfs -o mode=1777 rig-shm /dev/shm",
            "mount -t tmpfs -o mode=1777 rig-tmp /tmp",
            "mount -t tmpfs -o mode=1777 rig-vartmp /var/tmp",
            "i=0; for p in \"$@\"; do i=$((i+1)); mkdir -p \"$p\"; mount --move /run/rig-keep/$i \"$p\"; done",
            "exec " + SSHD + " -D -e -f /etc/ssh/sshd_config");

    /** Runs its arguments after "--" with empty directories bound over the ones named before it. */
    private static final String HIDE_SCRIPT = String.join("\n",
            "set -eu",
            "empty=$1; shift",
            "while [ \"$1\" != -- ]; do",
            "  if [ -d \"$1\" ]; then mount --bind \"$empty\" \"$1\"; fi",
            "  shift",
            "done",
            "shift",
            "exec \"$@\"");

    private static Optional<String> unavailable;

    private final int id;
    private final Path dir;
    private final String bridge;
    private final boolean sharedDirectory;
    private final List<Path> visibleInHosts;
    private final Set<String> loginUsers;
    private final List<RigHost> hosts = new ArrayList<>();
    private final Map<RigHost, String> hostKeys = new LinkedHashMap<>();
    private final Thread shutdownHook;
    private final Object lock = new Object();
    private boolean closed;

    private HostRig(int id, Path dir, Builder b) {
        this.id = id;
        this.dir = dir;
        this.bridge = NAME_PREFIX + id;
        this.sharedDirectory = b.sharedDirectory;
        this.visibleInHosts = List.copyOf(b.visibleInHosts);
        this.loginUsers = Set.copyOf(b.loginUsers);
        for (int k = 0; k < b.hosts; k++) {
            hosts.add(new RigHost(this, k, bridge + "h" + k, address(FIRST_HOST_OCTET + k), dir.resolve("h" + k)));
        }
        this.shutdownHook = new Thread(this::closeFromHook, "host-rig-" + id + "-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** {@code builder().hosts(hosts).start()}. */
    public static HostRig start(int hosts) {
        return builder().hosts(hosts).start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds and starts a {@link HostRig}; each call validates its argument at once. */
    public static final class Builder {
        private int hosts = 2;
        private boolean sharedDirectory = true;
        private final Set<Path> visibleInHosts = new LinkedHashSet<>();
        private final Set<String> loginUsers = new LinkedHashSet<>(List.of("postgres"));

        private Builder() {
            String polardb = System.getenv("POLARDB_HOME");
            if (polardb != null && !polardb.isBlank() && Files.isDirectory(Path.of(polardb))) {
                visibleInHosts.add(Path.of(polardb).toAbsolutePath().normalize());
            }
        }

        /** How many hosts (1 to {@value #MAX_HOSTS}; default 2). */
        public Builder hosts(int n) {
            if (n < 1 || n > MAX_HOSTS) {
                throw new IllegalArgumentException("hosts must be 1.." + MAX_HOSTS + ": " + n);
            }
            this.hosts = n;
            return this;
        }

        /** No {@link #SHARED_DIR} in the hosts. */
        public Builder withoutSharedDirectory() {
            this.sharedDirectory = false;
            return this;
        }

        /**
         * A directory of this machine the hosts must see at the same path even where it lies below
         * one a host replaces ({@code /tmp}, {@code /var/tmp}, {@code /srv}); {@code POLARDB_HOME}
         * is added by default when set.
         */
        public Builder visibleInHosts(Path directory) {
            Objects.requireNonNull(directory, "directory");
            if (!directory.isAbsolute() || !Files.isDirectory(directory)) {
                throw new IllegalArgumentException("not an absolute path of a directory: " + directory);
            }
            Path d = directory.normalize();
            if (d.startsWith("/run") || d.startsWith("/var/run") || d.equals(Path.of("/"))) {
                throw new IllegalArgumentException("cannot keep a directory below /run visible in the hosts: " + d);
            }
            visibleInHosts.add(d);
            return this;
        }

        /**
         * An existing OS user that may log in over SSH with the rig's keys although its password
         * is locked ({@code !} in /etc/shadow, which sshd without PAM refuses): each host's
         * /etc/shadow is a copy with that entry set to {@code *} (no password, keys only).
         * {@code postgres} is unlocked by default; root logs in anyway.
         */
        public Builder sshLoginUser(String user) {
            Objects.requireNonNull(user, "user");
            if (!user.matches("[a-z_][a-z0-9_-]{0,31}")) {
                throw new IllegalArgumentException("invalid user name: '" + user + "'");
            }
            loginUsers.add(user);
            return this;
        }

        /**
         * Starts the rig: every host answers SSH when this returns.
         *
         * @throws org.opentest4j.TestAbortedException where namespaces, root or sshd are missing
         */
        public HostRig start() {
            return HostRig.start(this);
        }
    }

    private static HostRig start(Builder b) {
        Optional<String> why = unavailableReason();
        Assumptions.assumeTrue(why.isEmpty(), () -> "the multi-host test rig cannot run here: " + why.orElse(""));
        long t0 = System.nanoTime();
        reapStale();
        int id = claimSubnet();
        HostRig rig = new HostRig(id, STATE_ROOT.resolve("r" + id), b);
        try {
            rig.setUp();
        } catch (RuntimeException | Error e) {
            try {
                rig.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        LOG.info("rig {} - {} hosts up in {} ms ({}, control {})", id, b.hosts, millisSince(t0), rig.subnet(),
                rig.controlAddress());
        return rig;
    }

    // ---------------------------------------------------------------- accessors

    /** N of {@code 10.231.N.0/24}. */
    public int id() {
        return id;
    }

    /** {@code 10.231.N.0/24}. */
    public String subnet() {
        return "10.231." + id + ".0/24";
    }

    /** This JVM's address on the rig's bridge, the source of every connection to a host. */
    public String controlAddress() {
        return address(1);
    }

    public RigHost host(int index) {
        if (index < 0 || index >= hosts.size()) {
            throw new IllegalArgumentException("no host " + index + " in a rig of " + hosts.size());
        }
        return hosts.get(index);
    }

    public List<RigHost> hosts() {
        return Collections.unmodifiableList(hosts);
    }

    /** The rig's Ed25519 private key (no passphrase), authorized for every user of every host. */
    public Path clientKeyFile() {
        return dir.resolve("client/id_ed25519");
    }

    /** known_hosts listing every host's key under its address (and nothing else). */
    public Path knownHostsFile() {
        return dir.resolve("client/known_hosts");
    }

    /**
     * Authorizes one more public key (a {@code .pub} line) for every user on every host, now and
     * after restarts.
     */
    public void authorize(String publicKeyLine) {
        Objects.requireNonNull(publicKeyLine, "publicKeyLine");
        String line = publicKeyLine.strip();
        if (!line.matches("(ssh|ecdsa|sk)-[A-Za-z0-9@.-]+ AAAA[A-Za-z0-9+/=]+( [^\\n]*)?")) {
            throw new IllegalArgumentException("not a public key line: '" + line + "'");
        }
        synchronized (lock) {
            requireOpen();
            for (RigHost h : hosts) {
                append(h.dir().resolve("etc-ssh/authorized_keys"), line + "\n");
            }
        }
    }

    /**
     * An argv prefix that runs a program in this (the control) network namespace but in a mount
     * namespace of its own in which the server binaries of this machine are hidden: an empty
     * directory is bound over {@link #SERVER_BINARY_DIRS}, the directories kept visible in the
     * hosts ({@code POLARDB_HOME}) and {@code alsoHidden}. Append the program's argv.
     * A child JVM run this way finds no PostgreSQL or PolarDB on its own file system, yet reaches
     * the hosts. (Jars on its class path, e.g. the embedded binaries artifact, are its own affair.)
     */
    public List<String> withoutServerBinaries(Path... alsoHidden) {
        List<String> argv = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "--",
                "sh", "-c", HIDE_SCRIPT, "rig-hide", dir.resolve("empty").toString()));
        Set<Path> hidden = new LinkedHashSet<>(SERVER_BINARY_DIRS);
        hidden.addAll(visibleInHosts);
        for (Path p : alsoHidden) {
            if (!p.isAbsolute()) {
                throw new IllegalArgumentException("not an absolute path: " + p);
            }
            hidden.add(p.normalize());
        }
        hidden.forEach(p -> argv.add(p.toString()));
        argv.add("--");
        return List.copyOf(argv);
    }

    // ---------------------------------------------------------------- host faults

    /**
     * Kills every process of the host at once (SIGKILL to its PID 1, which takes the whole PID
     * namespace with it, then to anything else in its network namespace), as a crash would: its
     * sshd and everything started in it are gone, its /tmp and /run with them; connections to its
     * address are refused. Its data directory and network stay.
     */
    public void kill(RigHost host) {
        requireOwn(host);
        long t0 = System.nanoTime();
        long pid = host.initPid;
        if (pid > 0) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        // unshare (our child, itself in the host's network namespace) reaps the init once the kernel
        // has killed the PID namespace; killed before that, it would leave the init a zombie under
        // a PID 1 that may never reap it. So: wait for it first, then sweep the network namespace.
        Process p = host.unshare;
        if (p != null) {
            try {
                if (!p.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while killing " + host, e);
            }
        }
        killNetnsProcesses(host.netns());
        host.unshare = null;
        host.initPid = 0;
        LOG.info("rig {} - {} killed in {} ms", id, host.name(), millisSince(t0));
    }

    /** Boots a killed (or running) host again: fresh /tmp and /run, same data, same host key. */
    public void restart(RigHost host) {
        synchronized (lock) {
            requireOpen();
            if (host.isRunning()) {
                kill(host);
            }
            reconnect(host);
            startHost(host);
            awaitSsh(host);
        }
    }

    /** Takes the host's link down: nothing reaches it or leaves it (connections time out); its processes run on. */
    public void disconnect(RigHost host) {
        requireOwn(host);
        ip("link", "set", host.netns(), "down");
    }

    /** Undoes {@link #disconnect}. */
    public void reconnect(RigHost host) {
        requireOwn(host);
        ip("link", "set", host.netns(), "up");
    }

    // ---------------------------------------------------------------- set-up

    private void setUp() {
        String shadow;
        try {
            Files.createDirectories(dir.resolve("client"));
            Files.createDirectories(dir.resolve("empty"));
            Files.createDirectories(dir.resolve("shared"));
            StringBuilder etcHosts = new StringBuilder("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
                    .append(controlAddress()).append("\tcontrol\n");
            for (RigHost h : hosts) {
                etcHosts.append(h.address()).append('\t').append(h.name()).append('\n');
            }
            Files.writeString(dir.resolve("hosts"), etcHosts);
            shadow = unlockedShadow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SshKeygen.generate(dir.resolve("client"), "id_ed25519", "", "-t", "ed25519");
        String clientKey = SshKeygen.publicKeyLine(clientKeyFile());

        ip("link", "add", bridge, "type", "bridge");
        // Bridged traffic between hosts must not depend on this machine's firewall (br_netfilter).
        CommandResult nf = tryIp("link", "set", bridge, "type", "bridge", "nf_call_iptables", "0");
        if (!nf.succeeded()) {
            LOG.debug("rig {} - bridge option nf_call_iptables not set: {}", id, nf.stderr().strip());
        }
        ip("addr", "add", controlAddress() + "/24", "dev", bridge);
        ip("link", "set", bridge, "up");

        StringBuilder knownHosts = new StringBuilder();
        for (RigHost h : hosts) {
            writeHostFiles(h, clientKey, shadow);
            String key = SshKeygen.publicKeyLine(h.dir().resolve("etc-ssh/ssh_host_ed25519_key"));
            String[] f = key.split(" ");
            hostKeys.put(h, h.address() + " " + f[0] + " " + f[1]);
            knownHosts.append(hostKeys.get(h)).append('\n');

            ip("netns", "add", h.netns());
            ip("link", "add", h.netns(), "type", "veth", "peer", "name", "eth0", "netns", h.netns());
            ip("link", "set", h.netns(), "master", bridge, "up");
            ip("-n", h.netns(), "addr", "add", h.address() + "/24", "dev", "eth0");
            ip("-n", h.netns(), "link", "set", "eth0", "up");
            ip("-n", h.netns(), "link", "set", "lo", "up");
        }
        write(knownHostsFile(), knownHosts.toString());
        for (RigHost h : hosts) {
            startHost(h);
        }
        for (RigHost h : hosts) {
            awaitSsh(h);
        }
    }

    /** This machine's /etc/shadow with the login users' locked passwords ("!...") replaced by "*". */
    private String unlockedShadow() throws IOException {
        StringBuilder out = new StringBuilder();
        for (String line : Files.readAllLines(Path.of("/etc/shadow"))) {
            String[] f = line.split(":", -1);
            if (f.length > 1 && loginUsers.contains(f[0]) && f[1].startsWith("!")) {
                f[1] = "*";
                line = String.join(":", f);
            }
            out.append(line).append('\n');
        }
        return out.toString();
    }

    private void writeHostFiles(RigHost h, String clientKey, String shadow) {
        Path etcSsh = h.dir().resolve("etc-ssh");
        try {
            Files.createDirectories(etcSsh);
            Files.createDirectories(h.dir().resolve("srv").resolve(DATA_DIR.getFileName()));
            Files.createDirectories(h.dir().resolve("srv").resolve(SHARED_DIR.getFileName()));
            // The host's /etc/ssh: the machine's client config and DH moduli, the rig's server config and keys.
            for (String f : List.of("ssh_config", "moduli")) {
                Path src = Path.of("/etc/ssh", f);
                if (Files.isRegularFile(src)) {
                    Files.copy(src, etcSsh.resolve(f));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SshKeygen.generate(etcSsh, "ssh_host_ed25519_key", "", "-t", "ed25519");
        write(etcSsh.resolve("authorized_keys"), clientKey + "\n");
        Path shadowFile = h.dir().resolve("shadow");
        write(shadowFile, shadow);
        try {
            Files.setPosixFilePermissions(shadowFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        write(etcSsh.resolve("sshd_config"), sshdConfig(h));
    }

    /** The sshd configuration of one host (its /etc/ssh/sshd_config). */
    static String sshdConfig(RigHost h) {
        return String.join("\n",
                "# PolarScale test rig host " + h.name() + " (" + h.address() + ", netns " + h.netns() + ")",
                "Port 22",
                "ListenAddress " + h.address(),
                "AddressFamily inet",
                "HostKey /etc/ssh/ssh_host_ed25519_key",
                "PidFile /run/sshd.pid",
                "AuthorizedKeysFile /etc/ssh/authorized_keys",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "UseDNS no",
                "PrintMotd no",
                "PrintLastLog no",
                "X11Forwarding no",
                "Subsystem sftp internal-sftp",
                "");
    }

    private void startHost(RigHost h) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", h.netns(),
                "unshare", "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child", "--mount-proc",
                "--propagation", "private", "--",
                "sh", "-c", INIT_SCRIPT, "rig-init", h.name(), h.dir().toString(),
                sharedDirectory ? dir.resolve("shared").toString() : "", dir.resolve("hosts").toString()));
        visibleInHosts.forEach(p -> argv.add(p.toString()));
        Path log = h.dir().resolve("sshd.log");
        Process p;
        try {
            p = new ProcessBuilder(argv)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + h, e);
        }
        h.unshare = p;
        long deadline = System.nanoTime() + HOST_START_TIMEOUT.toNanos();
        while (true) {
            Optional<ProcessHandle> init = p.toHandle().children().findFirst();
            if (init.isPresent()) {
                h.initPid = init.get().pid();
                return;
            }
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("rig " + id + " - " + h.name() + " did not start (exit "
                        + (p.isAlive() ? "none" : p.exitValue()) + "): " + tail(log));
            }
            sleep(5);
        }
    }

    /** Waits until the host's sshd sends its banner to this JVM. */
    private void awaitSsh(RigHost h) {
        long deadline = System.nanoTime() + HOST_START_TIMEOUT.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            Process p = h.unshare;
            if (p == null || !p.isAlive()) {
                throw new IllegalStateException("rig " + id + " - " + h.name() + "'s sshd exited: "
                        + tail(h.dir().resolve("sshd.log")));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(h.address(), 22), 500);
                s.setSoTimeout(2000);
                String banner = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                        .readLine();
                if (banner != null && banner.startsWith("SSH-2.0-")) {
                    return;
                }
                last = "banner " + banner;
            } catch (IOException e) {
                last = e.toString();
            }
            sleep(20);
        }
        throw new IllegalStateException("rig " + id + " - " + h.name() + " does not answer on " + h.address()
                + ":22 (" + last + "): " + tail(h.dir().resolve("sshd.log")));
    }

    String knownHostsLine(RigHost h) {
        return hostKeys.get(h);
    }

    // ---------------------------------------------------------------- teardown

    /**
     * Kills every process of every host and removes the veths, network namespaces, bridge and
     * the rig's files. Idempotent.
     *
     * @throws IllegalStateException if something could not be removed (the rest still is)
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        long t0 = System.nanoTime();
        IllegalStateException failure = null;
        for (RigHost h : hosts) {
            try {
                if (h.unshare != null) {
                    kill(h);
                }
            } catch (RuntimeException e) {
                failure = add(failure, e);
            }
        }
        try {
            teardown(id);
        } catch (RuntimeException e) {
            failure = add(failure, e);
        }
        if (Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs (or ran) anyway; close() is idempotent
            }
        }
        LOG.info("rig {} - closed in {} ms", id, millisSince(t0));
        if (failure != null) {
            throw failure;
        }
    }

    private void closeFromHook() {
        try {
            close();
        } catch (RuntimeException e) {
            LOG.error("rig {} - cleanup at JVM exit failed", id, e);
        }
    }

    private static IllegalStateException add(IllegalStateException failure, RuntimeException e) {
        IllegalStateException f = failure != null ? failure : new IllegalStateException("rig cleanup failed");
        f.addSuppressed(e);
        return f;
    }

    /**
     * Removes everything named for rig {@code id}: kills the processes in its network
     * namespaces, deletes its veths, namespaces and bridge, then its state directory.
     */
    private static void teardown(int id) {
        String bridge = NAME_PREFIX + id;
        Set<String> netns = new TreeSet<>();
        for (String n : rigNames(netnsNames())) {
            Matcher m = RIG_NAME.matcher(n);
            if (m.matches() && Integer.parseInt(m.group(1)) == id && m.group(2) != null) {
                netns.add(n);
            }
        }
        Set<String> links = new TreeSet<>();
        for (String n : rigNames(linkNames())) {
            Matcher m = RIG_NAME.matcher(n);
            if (m.matches() && Integer.parseInt(m.group(1)) == id) {
                links.add(n);
            }
        }
        for (String ns : netns) {
            killNetnsProcesses(ns);
        }
        for (String l : links) {
            if (!l.equals(bridge)) {
                tryIp("link", "del", l);
            }
        }
        for (String ns : netns) {
            CommandResult r = tryIp("netns", "del", ns);
            if (!r.succeeded()) {
                throw new IllegalStateException("cannot delete network namespace " + ns + ": " + r.stderr().strip());
            }
        }
        if (links.contains(bridge)) {
            CommandResult r = tryIp("link", "del", bridge);
            if (!r.succeeded()) {
                throw new IllegalStateException("cannot delete bridge " + bridge + ": " + r.stderr().strip());
            }
        }
        Path d = STATE_ROOT.resolve("r" + id);
        if (Files.exists(d)) {
            Executors.local().run(Command.of("rm", "-rf", "--one-file-system", "--", d.toString())
                    .withTimeout(Duration.ofMinutes(2)));
        }
    }

    /**
     * Removes rigs whose JVM is gone: state directories whose owner is dead, and bridges, veths
     * and namespaces of a rig without a state directory (a crash during a close).
     */
    static synchronized void reapStale() {
        Set<Integer> stale = new TreeSet<>();
        if (Files.isDirectory(STATE_ROOT)) {
            try (DirectoryStream<Path> dirs = Files.newDirectoryStream(STATE_ROOT, "r*")) {
                for (Path d : dirs) {
                    String n = d.getFileName().toString().substring(1);
                    if (n.matches("\\d{1,3}") && !ownerAlive(d)) {
                        stale.add(Integer.parseInt(n));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        Set<String> names = new TreeSet<>(rigNames(netnsNames()));
        names.addAll(rigNames(linkNames()));
        for (String n : names) {
            Matcher m = RIG_NAME.matcher(n);
            if (m.matches() && !Files.exists(STATE_ROOT.resolve("r" + m.group(1)))) {
                stale.add(Integer.parseInt(m.group(1)));
            }
            Matcher probe = PROBE_NAME.matcher(n);
            if (probe.matches() && ProcessHandle.of(Long.parseLong(probe.group(1))).isEmpty()) {
                tryIp("netns", "del", n);
            }
        }
        for (int id : stale) {
            LOG.warn("rig {} - removing a stale rig left by a JVM that is gone", id);
            teardown(id);
        }
    }

    private static boolean ownerAlive(Path rigDir) {
        Path owner = rigDir.resolve("owner");
        try {
            String[] f = Files.readString(owner).strip().split("\\s+");
            Optional<ProcessHandle> h = ProcessHandle.of(Long.parseLong(f[0]));
            if (h.isEmpty()) {
                return false;
            }
            Optional<Instant> started = h.get().info().startInstant();
            return started.isEmpty() || started.get().toEpochMilli() == Long.parseLong(f[1]);
        } catch (NoSuchFileException e) {
            try {
                FileTime claimed = Files.getLastModifiedTime(rigDir);
                return claimed.toInstant().isAfter(Instant.now().minus(CLAIM_GRACE));
            } catch (IOException gone) {
                return true; // removed meanwhile by its owner
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("unreadable owner file {} ({}): treating the rig as stale", owner, e.toString());
            return false;
        }
    }

    /** Takes the first N whose 10.231.N.0/24 overlaps no route here, by creating its state directory. */
    private static int claimSubnet() {
        List<long[]> routes = routes();
        try {
            Files.createDirectories(STATE_ROOT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int start = (int) (ProcessHandle.current().pid() % 254);
        for (int k = 0; k < 254; k++) {
            int n = 1 + (start + k) % 254;
            long net = ipv4("10.231." + n + ".0");
            if (routes.stream().anyMatch(r -> overlaps(r[0], (int) r[1], net, 24))) {
                continue;
            }
            Path d = STATE_ROOT.resolve("r" + n);
            try {
                Files.createDirectory(d);
            } catch (FileAlreadyExistsException taken) {
                continue;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            ProcessHandle self = ProcessHandle.current();
            long startedAt = self.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
            write(d.resolve("owner"), self.pid() + " " + startedAt + "\n");
            return n;
        }
        Assumptions.abort("no free /24 in 10.231.0.0/16 for the host rig: every one overlaps a route here");
        throw new AssertionError("unreachable");
    }

    /** Every non-default IPv4 route of every table, as {network, prefix length}. */
    private static List<long[]> routes() {
        CommandResult r = Executors.local().run(Command.of("ip", "-4", "-o", "route", "show", "table", "all")
                .withTimeout(COMMAND_TIMEOUT));
        Set<String> types = Set.of("unicast", "local", "broadcast", "multicast", "unreachable", "blackhole",
                "prohibit", "throw", "nat", "anycast");
        List<long[]> out = new ArrayList<>();
        for (String line : r.stdout().split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 0 || f[0].isEmpty()) {
                continue;
            }
            String dest = types.contains(f[0]) && f.length > 1 ? f[1] : f[0];
            if (dest.equals("default") || !dest.matches("\\d+\\.\\d+\\.\\d+\\.\\d+(/\\d+)?")) {
                continue;
            }
            String[] p = dest.split("/");
            out.add(new long[]{ipv4(p[0]), p.length > 1 ? Integer.parseInt(p[1]) : 32});
        }
        return out;
    }

    static boolean overlaps(long a, int aLen, long b, int bLen) {
        int len = Math.min(aLen, bLen);
        long mask = len == 0 ? 0 : (0xFFFFFFFFL << (32 - len)) & 0xFFFFFFFFL;
        return (a & mask) == (b & mask);
    }

    private static long ipv4(String dotted) {
        long v = 0;
        for (String part : dotted.split("\\.")) {
            v = (v << 8) | Integer.parseInt(part);
        }
        return v;
    }

    // ---------------------------------------------------------------- availability

    /**
     * Why the rig cannot run on this machine (not root, no sshd, namespaces refused), or empty.
     * Probed once per JVM with a throw-away network namespace.
     */
    public static synchronized Optional<String> unavailableReason() {
        if (unavailable == null) {
            unavailable = probe();
            unavailable.ifPresent(r -> LOG.warn("multi-host test rig unavailable: {}", r));
        }
        return unavailable;
    }

    private static Optional<String> probe() {
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            return Optional.of("Linux namespaces are needed; this is " + System.getProperty("os.name"));
        }
        String uid = uid();
        if (!"0".equals(uid)) {
            return Optional.of("root is needed for network namespaces, veth pairs and mounts; this JVM runs as uid "
                    + uid);
        }
        if (!Files.isExecutable(SSHD)) {
            return Optional.of(SSHD + " is missing: install the OpenSSH server (Debian package openssh-server; CI"
                    + " does in .ci/setup.d/20-ssh.sh)");
        }
        Optional<String> keygen = SshKeygen.unavailableReason();
        if (keygen.isPresent()) {
            return keygen;
        }
        for (Path mountPoint : List.of(Path.of("/srv"), Path.of("/etc/ssh"))) {
            if (!Files.isDirectory(mountPoint)) {
                return Optional.of(mountPoint + " does not exist: the hosts mount their own over it");
            }
        }
        for (String tool : List.of("ip", "unshare", "nsenter", "mount")) {
            if (which(tool).isEmpty()) {
                return Optional.of("'" + tool + "' is not on the PATH (packages iproute2, util-linux, mount)");
            }
        }
        String ns = NAME_PREFIX + "probe" + ProcessHandle.current().pid();
        CommandResult add = tryIp("netns", "add", ns);
        if (!add.succeeded()) {
            return Optional.of("network namespaces are not permitted here: 'ip netns add' failed: "
                    + add.stderr().strip());
        }
        try {
            CommandResult r = Executors.local().execute(Command.of("ip", "netns", "exec", ns, "unshare", "--mount",
                    "--uts", "--ipc", "--pid", "--fork", "--mount-proc", "--propagation", "private", "--", "sh", "-c",
                    "mount -t tmpfs rig-probe /tmp && hostname probe && test -r /proc/1/status")
                    .withTimeout(COMMAND_TIMEOUT));
            if (!r.succeeded()) {
                return Optional.of("mount, UTS and PID namespaces are not permitted here: unshare failed (exit "
                        + r.exitCode() + "): " + r.stderr().strip());
            }
        } finally {
            tryIp("netns", "del", ns);
        }
        return Optional.empty();
    }

    private static String uid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[1];
                }
            }
        } catch (IOException e) {
            return "unknown (" + e + ")";
        }
        return "unknown";
    }

    private static Optional<Path> which(String tool) {
        Set<String> dirs = new LinkedHashSet<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, tool)).filter(Files::isExecutable)
                .findFirst();
    }

    // ---------------------------------------------------------------- namespaces and processes

    /** Kills every process whose network namespace is {@code netns}, until none is left. */
    private static void killNetnsProcesses(String netns) {
        long inode;
        try {
            inode = (Long) Files.getAttribute(Path.of("/run/netns", netns), "unix:ino");
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long deadline = System.nanoTime() + KILL_TIMEOUT.toNanos();
        while (true) {
            List<Long> pids = processesIn("net", inode);
            if (pids.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("processes of network namespace " + netns + " survive SIGKILL: " + pids);
            }
            pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            sleep(20);
        }
    }

    /** The PIDs (as this JVM sees them) of live processes in the namespace of {@code kind} with that inode. */
    static List<Long> processesIn(String kind, long inode) {
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                OptionalLong ns = namespaceInode(p, kind);
                if (ns.isPresent() && ns.getAsLong() == inode) {
                    pids.add(Long.parseLong(p.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pids;
    }

    /** The inode of {@code /proc/PID/ns/KIND} (empty for a process that is gone, or a zombie). */
    static OptionalLong namespaceInode(Path procDir, String kind) {
        try {
            Matcher m = NS_LINK.matcher(Files.readSymbolicLink(procDir.resolve("ns").resolve(kind)).toString());
            return m.matches() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
        } catch (IOException | UnsupportedOperationException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * The namespaces of the running hosts ({@code kind:inode}, kinds net, mnt, pid, uts, ipc), so
     * a test can check that none survives {@link #close()}.
     */
    public Set<String> namespaces() {
        Set<String> out = new TreeSet<>();
        for (RigHost h : hosts) {
            long pid = h.initPid;
            if (pid <= 0) {
                continue;
            }
            for (String kind : List.of("net", "mnt", "pid", "uts", "ipc")) {
                namespaceInode(Path.of("/proc", Long.toString(pid)), kind).ifPresent(i -> out.add(kind + ":" + i));
            }
        }
        return out;
    }

    private static List<String> netnsNames() {
        CommandResult r = tryIp("netns", "list");
        List<String> out = new ArrayList<>();
        for (String line : r.stdout().split("\n")) {
            String n = line.trim().split("\\s+")[0];
            if (!n.isEmpty()) {
                out.add(n);
            }
        }
        return out;
    }

    private static List<String> linkNames() {
        CommandResult r = tryIp("-o", "link", "show");
        List<String> out = new ArrayList<>();
        for (String line : r.stdout().split("\n")) {
            String[] f = line.split(":\\s+", 3);
            if (f.length >= 2) {
                out.add(f[1].split("@")[0]);
            }
        }
        return out;
    }

    private static List<String> rigNames(List<String> names) {
        return names.stream().filter(n -> n.startsWith(NAME_PREFIX)).toList();
    }

    // ---------------------------------------------------------------- helpers

    private String address(int lastOctet) {
        return "10.231." + id + "." + lastOctet;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("rig " + id + " is closed");
        }
    }

    private void requireOwn(RigHost host) {
        Objects.requireNonNull(host, "host");
        if (!hosts.contains(host)) {
            throw new IllegalArgumentException(host + " is not a host of rig " + id);
        }
    }

    private static void ip(String... args) {
        List<String> argv = new ArrayList<>(List.of("ip"));
        argv.addAll(List.of(args));
        Executors.local().run(Command.of(argv).withTimeout(COMMAND_TIMEOUT));
    }

    private static CommandResult tryIp(String... args) {
        List<String> argv = new ArrayList<>(List.of("ip"));
        argv.addAll(List.of(args));
        return Executors.local().execute(Command.of(argv).withTimeout(COMMAND_TIMEOUT));
    }

    private static void write(Path file, String content) {
        try {
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void append(Path file, String content) {
        try {
            Files.writeString(file, content, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Override
    public String toString() {
        return "HostRig[" + id + ", " + subnet() + ", " + hosts + (closed ? ", closed" : "") + "]";
    }
}
