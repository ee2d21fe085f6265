package dev.polarscale.storage;

import dev.polarscale.core.CommandExecutor;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How to reach the PFS (PolarDB File System) tools: cluster name ({@code pfs -C <cluster>}),
 * where {@code pfs} and the pfsd scripts are, how many pfsd workers to start. Immutable and
 * host-independent; {@link #on(CommandExecutor)} binds it to one host.
 *
 * <pre>{@code
 * Pfs pfs = Pfs.builder()
 *         .clusterName("disk")
 *         .pfsdBinDir(Path.of("/usr/local/polarstore/pfsd/bin"))
 *         .workers(4)
 *         .build();
 * try (CommandExecutor host = Executors.local()) {
 *     PfsClient client = pfs.on(host);
 *     client.ensureDaemonRunning(DeviceName.of("nvme1n1"));
 *     client.mkdir(PfsPath.of("/nvme1n1/shared_data"));
 * }
 * }</pre>
 */
public final class Pfs {
    /** Where the PolarDB packages install {@code start_pfsd.sh} and {@code stop_pfsd.sh}. */
    public static final Path DEFAULT_PFSD_BIN_DIR = Path.of("/usr/local/polarstore/pfsd/bin");

    private static final Pattern CLUSTER = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private final String clusterName;
    private final String pfsCommand;
    private final Path startScript;
    private final Path stopScript;
    private final int workers;
    private final Duration timeout;

    private Pfs(Builder b) {
        this.clusterName = b.clusterName;
        this.pfsCommand = b.pfsCommand;
        this.startScript = b.startScript != null ? b.startScript : b.pfsdBinDir.resolve("start_pfsd.sh");
        this.stopScript = b.stopScript != null ? b.stopScript : b.pfsdBinDir.resolve("stop_pfsd.sh");
        this.workers = b.workers;
        this.timeout = b.timeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The operations on one host. */
    public PfsClient on(CommandExecutor executor) {
        return new PfsClient(this, executor);
    }

    /** The {@code -C} argument of {@code pfs}; also {@code polar_storage_cluster_name}. */
    public String clusterName() {
        return clusterName;
    }

    public String pfsCommand() {
        return pfsCommand;
    }

    public Path startScript() {
        return startScript;
    }

    public Path stopScript() {
        return stopScript;
    }

    public int workers() {
        return workers;
    }

    public Duration timeout() {
        return timeout;
    }

    @Override
    public String toString() {
        return "Pfs[cluster=" + clusterName + ", pfs=" + pfsCommand + ", start=" + startScript + ", stop="
                + stopScript + ", workers=" + workers + "]";
    }

    /** Collects the settings; every call rejects a bad value at once. */
    public static final class Builder {
        private String clusterName = "disk";
        private String pfsCommand = "pfs";
        private Path pfsdBinDir = DEFAULT_PFSD_BIN_DIR;
        private Path startScript;
        private Path stopScript;
        private int workers = 4;
        private Duration timeout = Duration.ofMinutes(2);

        private Builder() {
        }

        /** {@code pfs -C <name>}; default {@code disk} (a local block device, the tutorial's choice). */
        public Builder clusterName(String name) {
            Objects.requireNonNull(name, "clusterName");
            if (!CLUSTER.matcher(name).matches()) {
                throw new IllegalArgumentException("invalid PFS cluster name: '" + name + "'");
            }
            this.clusterName = name;
            return this;
        }

        /** The {@code pfs} program, a bare name looked up on the host's PATH or an absolute path; default {@code pfs}. */
        public Builder pfsCommand(String command) {
            Objects.requireNonNull(command, "pfsCommand");
            if (command.isBlank() || (command.contains("/") && !command.startsWith("/"))) {
                throw new IllegalArgumentException("pfs command must be a bare name or an absolute path: '"
                        + command + "'");
            }
            this.pfsCommand = command;
            return this;
        }

        /** Directory holding {@code start_pfsd.sh} and {@code stop_pfsd.sh}; default {@link #DEFAULT_PFSD_BIN_DIR}. */
        public Builder pfsdBinDir(Path dir) {
            this.pfsdBinDir = absolute(dir, "pfsd bin directory");
            return this;
        }

        /** Overrides the start script path (else {@code <pfsdBinDir>/start_pfsd.sh}). */
        public Builder startScript(Path script) {
            this.startScript = absolute(script, "start_pfsd.sh path");
            return this;
        }

        /** Overrides the stop script path (else {@code <pfsdBinDir>/stop_pfsd.sh}). */
        public Builder stopScript(Path script) {
            this.stopScript = absolute(script, "stop_pfsd.sh path");
            return this;
        }

        /** pfsd worker threads ({@code -w}); 1..64, default 4. */
        public Builder workers(int n) {
            if (n < 1 || n > 64) {
                throw new IllegalArgumentException("pfsd workers must be 1..64: " + n);
            }
            this.workers = n;
            return this;
        }

        /** Timeout of each PFS command; default 2 minutes. */
        public Builder timeout(Duration t) {
            Objects.requireNonNull(t, "timeout");
            if (t.isZero() || t.isNegative()) {
                throw new IllegalArgumentException("timeout must be positive: " + t);
            }
            this.timeout = t;
            return this;
        }

        private static Path absolute(Path p, String what) {
            Objects.requireNonNull(p, what);
            if (!p.isAbsolute()) {
                throw new IllegalArgumentException(what + " must be absolute: " + p);
            }
            return p.normalize();
        }

        public Pfs build() {
            return new Pfs(this);
        }
    }
}
