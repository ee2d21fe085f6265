package dev.polarscale.core.rig;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;
import dev.polarscale.core.SshTarget;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One host of a {@link HostRig}: its own network namespace and address, its own hostname, and a
 * private mount, IPC and PID namespace in which a real OpenSSH {@code sshd} is PID 1. Everything a
 * session on it starts (a PostgreSQL server, say) lives in those namespaces, sees the host's own
 * {@code /tmp}, {@code /run}, {@code /dev/shm} and {@link HostRig#DATA_DIR}, and dies with the host.
 *
 * <pre>{@code
 * try (CommandExecutor h0 = rig.host(0).ssh()) {
 *     h0.run(Command.of("hostname"));           // "h0"
 * }
 * rig.host(1).exec("touch", "/tmp/only-here");  // set-up without SSH
 * }</pre>
 */
public final class RigHost {
    private final HostRig rig;
    private final int index;
    private final String name;
    private final String netns;
    private final String address;
    private final Path dir;
    /** The {@code unshare} child of this JVM and the PID-namespace init (sshd) under it; null when down. */
    volatile Process unshare;
    volatile long initPid;

    RigHost(HostRig rig, int index, String netns, String address, Path dir) {
        this.rig = rig;
        this.index = index;
        this.name = "h" + index;
        this.netns = netns;
        this.address = address;
        this.dir = dir;
    }

    /** 0, 1, ... in the rig. */
    public int index() {
        return index;
    }

    /** The host's hostname ({@code h0}, {@code h1}, ...); every host's {@code /etc/hosts} knows all of them. */
    public String name() {
        return name;
    }

    /** The host's IPv4 address on the rig's bridge; its sshd listens there on port 22. */
    public String address() {
        return address;
    }

    /** The network namespace's name ({@code ip netns exec} works with it), e.g. {@code psrig17h0}. */
    public String netns() {
        return netns;
    }

    /** Whether the host runs (started and neither killed nor closed). */
    public boolean isRunning() {
        Process p = unshare;
        return p != null && p.isAlive();
    }

    /**
     * Root login with the rig's Ed25519 key and strict host key checking against the rig's
     * known_hosts file, which lists this host's key.
     */
    public SshTarget sshTarget() {
        return sshTargetBuilder().build();
    }

    /** {@link #sshTarget()}'s settings, to change the user or the key. */
    public SshTarget.Builder sshTargetBuilder() {
        return SshTarget.builder()
                .host(address)
                .user("root")
                .privateKeyFile(rig.clientKeyFile())
                .knownHostsFile(rig.knownHostsFile())
                .connectTimeout(Duration.ofSeconds(5))
                .authTimeout(Duration.ofSeconds(15));
    }

    /** {@code Executors.ssh(sshTarget())}; the caller closes it. */
    public CommandExecutor ssh() {
        return Executors.ssh(sshTarget());
    }

    /** The host key line as in known_hosts: {@code ADDRESS ssh-ed25519 AAAA...}. */
    public String knownHostsLine() {
        return rig.knownHostsLine(this);
    }

    /**
     * The argv prefix that runs a program inside this host without SSH ({@code nsenter} into its
     * namespaces, working directory {@code /}).
     *
     * @throws IllegalStateException the host is not running
     */
    public List<String> nsenterPrefix() {
        long pid = initPid;
        if (!isRunning() || pid <= 0) {
            throw new IllegalStateException(this + " is not running");
        }
        return List.of("nsenter", "--target", Long.toString(pid), "--mount", "--uts", "--ipc", "--net", "--pid",
                "--wd=/", "--");
    }

    /** Runs {@code argv} as root inside the host (for test set-up) and returns its result; 2 minutes at most. */
    public CommandResult exec(List<String> argv) {
        Objects.requireNonNull(argv, "argv");
        List<String> all = new ArrayList<>(nsenterPrefix());
        all.addAll(argv);
        return Executors.local().execute(Command.of(all).withTimeout(Duration.ofMinutes(2)));
    }

    /** {@link #exec(List)}. */
    public CommandResult exec(String... argv) {
        return exec(List.of(argv));
    }

    /** The directory of this host's files in the control namespace (configuration, sshd log). */
    Path dir() {
        return dir;
    }

    @Override
    public String toString() {
        return name + "(" + address + ", netns " + netns + (isRunning() ? "" : ", down") + ")";
    }
}
