package dev.polarscale.core;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A running container (Docker, Podman) or Kubernetes pod to run commands in, through the
 * runtime's own CLI ({@code docker exec}, {@code podman exec}, {@code kubectl exec}) on whatever
 * host another {@link CommandExecutor} reaches. Immutable; every builder call validates at once.
 *
 * <pre>{@code
 * ContainerTarget pg1 = ContainerTarget.docker("polar-primary").build();
 * ContainerTarget pod = ContainerTarget.kubectl("polar-replica-0").namespace("db").container("postgres").build();
 *
 * try (CommandExecutor inPod = Executors.container(Executors.local(), pod)) {
 *     inPod.run(Command.of("pg_ctl", "-D", "/var/lib/polar/data", "status"));
 * }
 * }</pre>
 *
 * <p>How a {@link Command} is translated:
 * <ul>
 *   <li>Docker/Podman: {@code docker exec [-i] [-u user] [-w dir] [-e K=V]... <container> argv...};
 *       {@link Command#asUser(String)} becomes {@code -u user}, {@link Command#privileged()}
 *       becomes {@code -u 0} (works in images without {@code /etc/passwd}).</li>
 *   <li>kubectl: {@code kubectl exec [-i] <pod> [-n namespace] [-c container] -- [env K=V...] argv...};
 *       a working directory is entered with {@code sh -c 'cd -- "$1" && shift && exec "$@"'}, so
 *       the image needs a {@code sh}. {@code kubectl exec} cannot switch user, so a command with
 *       {@code asUser} or {@code privileged()} is rejected with {@link IllegalArgumentException}
 *       rather than silently run as the container's user.</li>
 * </ul>
 * {@code -i} is passed only when the command has standard input; otherwise the process gets an
 * empty, closed stdin, as with the local executor.
 *
 * <p>Environment values travel on the runtime's command line, so they are visible in the
 * process list of the host running the CLI; values registered as secrets
 * ({@link Command#withSecret(String)}, or a variable named like {@code *PASSWORD*}) are masked
 * in logs and exceptions, not hidden from {@code ps}. Prefer a mounted {@code .pgpass}.
 *
 * <p>Docker and Podman do not stop the process inside the container when their exec client
 * dies, so killing the CLI on timeout is not enough. Every Docker/Podman command therefore also
 * gets {@code -e POLARSCALE_EXEC_ID=<random>}, which the processes it starts inherit; after a
 * timeout the executor runs a second {@code exec}, as the same user, that SIGKILLs every process
 * in the container carrying that value (it needs {@code sh}, {@code tr} and {@code grep} in the
 * image; a child that switched user or cleared its environment is missed, and the exception says
 * what was killed or why not). {@code kubectl exec} offers no such way: a timed-out command may
 * still run in the pod, so bound long commands there yourself ({@code timeout 60 pg_basebackup ...}).
 *
 * <p>A container that does not exist or does not run is reported by the engine, not by the
 * command: Podman's exit 125 with {@code Error: ...}, Docker's {@code Error response from
 * daemon: ...}. Those become a {@link PolarException} with {@link PolarException.Reason#HOST_UNREACHABLE};
 * every other exit code (126 and 127 for a program that cannot run included) is the command's.
 */
public final class ContainerTarget {

    /** The CLI family, which decides the argument layout. */
    public enum Kind {
        DOCKER("docker"), PODMAN("podman"), KUBECTL("kubectl");

        private final String defaultBinary;

        Kind(String defaultBinary) {
            this.defaultBinary = defaultBinary;
        }

        public String defaultBinary() {
            return defaultBinary;
        }
    }

    private static final Pattern CONTAINER = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile(
            "(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern DNS_LABEL = Pattern.compile("(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?");

    private final Kind kind;
    private final String binary;
    private final String name;
    private final String namespace;
    private final String podContainer;
    private final boolean runtimePrivileged;

    private ContainerTarget(Builder b) {
        this.kind = b.kind;
        this.binary = b.binary != null ? b.binary : b.kind.defaultBinary();
        this.name = b.name;
        this.namespace = b.namespace;
        this.podContainer = b.podContainer;
        this.runtimePrivileged = b.runtimePrivileged;
    }

    /** A Docker container by name or id. */
    public static Builder docker(String container) {
        return new Builder(Kind.DOCKER, container);
    }

    /** A Podman container by name or id. */
    public static Builder podman(String container) {
        return new Builder(Kind.PODMAN, container);
    }

    /** A Kubernetes pod, reached with {@code kubectl exec}. */
    public static Builder kubectl(String pod) {
        return new Builder(Kind.KUBECTL, pod);
    }

    public Kind kind() {
        return kind;
    }

    /** The CLI program: {@code docker}, {@code podman}, {@code kubectl} or a configured path. */
    public String binary() {
        return binary;
    }

    /** The container name or id (Docker, Podman) or the pod name (kubectl). */
    public String name() {
        return name;
    }

    /** kubectl only: the namespace, when not the context's default. */
    public Optional<String> namespace() {
        return Optional.ofNullable(namespace);
    }

    /** kubectl only: the container in the pod, when not the pod's default. */
    public Optional<String> podContainer() {
        return Optional.ofNullable(podContainer);
    }

    /** Whether the CLI itself runs as root ({@code sudo -n} on a non-root host). */
    public boolean isRuntimePrivileged() {
        return runtimePrivileged;
    }

    /** E.g. {@code docker:polar-primary} or {@code kubectl:db/polar-replica-0/postgres}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(kind.name().toLowerCase(java.util.Locale.ROOT)).append(':');
        if (namespace != null) {
            sb.append(namespace).append('/');
        }
        sb.append(name);
        if (podContainer != null) {
            sb.append('/').append(podContainer);
        }
        return sb.toString();
    }

    /** Builds a {@link ContainerTarget}; each call validates its argument at once. */
    public static final class Builder {
        private final Kind kind;
        private final String name;
        private String binary;
        private String namespace;
        private String podContainer;
        private boolean runtimePrivileged;

        private Builder(Kind kind, String name) {
            Objects.requireNonNull(name, "name");
            Pattern p = kind == Kind.KUBECTL ? DNS_SUBDOMAIN : CONTAINER;
            if (!p.matcher(name).matches()) {
                throw new IllegalArgumentException("invalid " + (kind == Kind.KUBECTL ? "pod" : "container")
                        + " name: '" + name + "'");
            }
            this.kind = kind;
            this.name = name;
        }

        /** The CLI program to run instead of the default ({@code /usr/local/bin/docker}, {@code oc}, ...). */
        public Builder binary(String binary) {
            Objects.requireNonNull(binary, "binary");
            if (binary.isBlank() || binary.startsWith("-") || binary.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("invalid runtime binary: '" + binary.replace('\0', '?') + "'");
            }
            this.binary = binary;
            return this;
        }

        /** kubectl only: {@code -n namespace}. */
        public Builder namespace(String namespace) {
            requireKubectl("namespace");
            Objects.requireNonNull(namespace, "namespace");
            if (!DNS_LABEL.matcher(namespace).matches()) {
                throw new IllegalArgumentException("invalid Kubernetes namespace: '" + namespace + "'");
            }
            this.namespace = namespace;
            return this;
        }

        /** kubectl only: {@code -c container}, the container inside the pod. */
        public Builder container(String container) {
            requireKubectl("container");
            Objects.requireNonNull(container, "container");
            if (!DNS_LABEL.matcher(container).matches()) {
                throw new IllegalArgumentException("invalid container name in pod: '" + container + "'");
            }
            this.podContainer = container;
            return this;
        }

        /**
         * Runs the CLI itself as root (on a host where only root may talk to the runtime). This
         * says nothing about the user inside the container.
         */
        public Builder runtimePrivileged() {
            this.runtimePrivileged = true;
            return this;
        }

        public ContainerTarget build() {
            return new ContainerTarget(this);
        }

        private void requireKubectl(String what) {
            if (kind != Kind.KUBECTL) {
                throw new IllegalArgumentException(what + " applies to kubectl targets only, not " + kind);
            }
        }
    }
}
