package dev.polarscale.examples.cli;

import dev.polarscale.core.PolarException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code polarscale}: the command line over {@code ClusterScaler}, driven by a cluster file.
 *
 * <pre>
 * java -jar polarscale.jar -f cluster.yaml deploy
 * java -jar polarscale.jar -f cluster.yaml add standby --name standby-1 --port 5433
 * java -jar polarscale.jar -f cluster.yaml status --json
 * </pre>
 *
 * <p>A subcommand is one class: a {@link ClusterCommand} (or {@link ClusterCommand.Operation} for
 * one that {@code plan} can show too) listed in {@link #SUBCOMMANDS} (and in {@link PlanCommand}'s
 * list if it has a plan). Failures become exit codes through {@link ExitCodes}.
 */
@Command(name = "polarscale", sortOptions = false, usageHelpAutoWidth = true,
        description = "Adds and removes compute nodes of a PostgreSQL or PolarDB-PG cluster described by a "
                + "cluster file (YAML).")
public final class PolarScaleCli implements Callable<Integer> {
    /** The log level of the library unless {@code -v} or the system property says otherwise. */
    static final String LOG_LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";
    private static final String RUNNER_LOG_LEVEL =
            "org.slf4j.simpleLogger.log.dev.polarscale.replication.internal.OperationRunner";
    static final String CLUSTER_FILE_ENV = "POLARSCALE_CLUSTER_FILE";
    static final String DEFAULT_CLUSTER_FILE = "polarscale.yaml";
    static final List<Class<?>> SUBCOMMANDS = List.of(InitCommand.class, PlanCommand.class, DeployCommand.class,
            AdoptCommand.class, AddCommand.class, RemoveCommand.class, ScaleCommand.class, StatusCommand.class,
            EventsCommand.class, StopCommand.class);

    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--cluster-file"}, paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "The cluster file (default: $" + CLUSTER_FILE_ENV + ", else ./" + DEFAULT_CLUSTER_FILE + ").")
    Path clusterFile;

    @Option(names = {"-h", "--help"}, usageHelp = true, scope = ScopeType.INHERIT, description = "Show this help.")
    boolean help;

    private final boolean terminal;
    private final boolean unicode;
    private final SecretSource secrets;

    /**
     * @param terminal whether standard output is a terminal (progress lines rewritten in place)
     * @param unicode  whether it can show ✓ and …
     * @param secrets  where secret references are resolved
     */
    PolarScaleCli(boolean terminal, boolean unicode, SecretSource secrets) {
        this.terminal = terminal;
        this.unicode = unicode;
        this.secrets = secrets;
    }

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Log the library's steps (INFO) to standard error; twice: DEBUG.")
    void verbose(boolean[] v) {
        System.setProperty(LOG_LEVEL, v.length > 1 ? "debug" : "info");
        System.clearProperty(RUNNER_LOG_LEVEL);
    }

    public static void main(String[] args) {
        if (System.getProperty(LOG_LEVEL) == null) {
            System.setProperty(LOG_LEVEL, "warn"); // the CLI prints each step itself
            // ... and each failure: the runner's WARN would say it twice (-v shows it again)
            System.setProperty(RUNNER_LOG_LEVEL, "error");
        }
        java.io.Console console = System.console();
        Charset charset = console != null ? console.charset() : Charset.defaultCharset();
        PrintWriter out = new PrintWriter(new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out),
                true, charset), true);
        PrintWriter err = new PrintWriter(new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err),
                true, charset), true);
        boolean unicode = charset.newEncoder().canEncode("✓…✗↶");
        int code = commandLine(out, err, console != null, unicode, SecretSource.SYSTEM).execute(args);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** The command line, writing to {@code out} and {@code err}, with every subcommand and handler. */
    static CommandLine commandLine(PrintWriter out, PrintWriter err, boolean terminal, boolean unicode,
                                   SecretSource secrets) {
        CommandLine cl = new CommandLine(new PolarScaleCli(terminal, unicode, secrets));
        for (Class<?> c : SUBCOMMANDS) {
            cl.addSubcommand(c);
        }
        cl.setOut(out);
        cl.setErr(err);
        cl.getCommandSpec().usageMessage().footerHeading("%n").footer(footer());
        cl.setParameterExceptionHandler((ex, args) -> {
            err.println("polarscale: " + ex.getMessage());
            if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, err)) {
                err.println("Try: " + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help");
            }
            return ExitCodes.USAGE;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            int code = ExitCodes.of(ex);
            err.println("polarscale: " + describe(ex, code));
            if (code == ExitCodes.UNEXPECTED) {
                ex.printStackTrace(err);
            }
            return code;
        });
        return cl;
    }

    /** One line for a failure: the reason, the node and host where known, the message, the exit code. */
    static String describe(Exception ex, int code) {
        if (ex instanceof PolarException p) {
            return p.reason() + p.node().map(n -> " [node " + n + "]").orElse("")
                    + p.host().map(h -> " [host " + h + "]").orElse("") + ": " + p.getMessage() + " (exit " + code + ")";
        }
        if (code == ExitCodes.USAGE) {
            return ex.getMessage() + " (exit " + code + ")";
        }
        return "unexpected error: " + ex + " (exit " + code + ")";
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }

    /** The cluster file named by {@code -f}, the environment or the default name, read and checked. */
    ClusterFile clusterFile() {
        Path file = clusterFile;
        if (file == null) {
            String env = secrets.env(CLUSTER_FILE_ENV);
            file = Path.of(env != null && !env.isBlank() ? env : DEFAULT_CLUSTER_FILE);
            if (env == null && !file.toFile().exists()) {
                throw new ClusterFileException(file.toString(), 0, "", "no cluster file: name one with -f FILE or $"
                        + CLUSTER_FILE_ENV + " (polarscale init DIR writes one for a cluster on this machine)");
            }
        }
        return ClusterFile.load(file, secrets);
    }

    /** Progress of each step, on {@code out}. */
    Progress progress(PrintWriter out) {
        return new Progress(out, terminal, unicode);
    }

    boolean terminal() {
        return terminal;
    }

    /** The help's closing part: an example cluster file, an example session and the exit codes. */
    static String[] footer() {
        List<String> lines = new ArrayList<>();
        lines.add("Example cluster file (every key: see the README, \"Command line\"):");
        lines.add("");
        exampleFile().lines().forEach(l -> lines.add("  " + l));
        lines.add("");
        lines.add("Example session (polarscale: java -jar polarscale.jar):");
        lines.add("");
        lines.add("  export PGPASSWORD=...      # the superuser's, as superuser.password says");
        lines.add("  polarscale -f cluster.yaml plan deploy");
        lines.add("  polarscale -f cluster.yaml deploy");
        lines.add("  polarscale -f cluster.yaml add standby --name standby-1 --port 5432 \\");
        lines.add("      --host 10.0.0.2 --data-dir /var/lib/postgresql/15/standby-1");
        lines.add("  polarscale -f cluster.yaml status --json");
        lines.add("  polarscale -f cluster.yaml remove standby-1 --delete-data");
        lines.add("");
        lines.add("Try it on this machine (a cluster on 127.0.0.1, data under $D):");
        lines.add("");
        lines.add("  D=$(mktemp -d) && polarscale init $D");
        lines.add("  polarscale -f $D/cluster.yaml deploy");
        lines.add("");
        lines.add("Exit codes:");
        lines.add("");
        ExitCodes.table().forEach(l -> lines.add("  " + l));
        return lines.stream().map(l -> l.replace("%", "%%")).toArray(String[]::new);
    }

    /** The example cluster file shown by {@code --help} and the README. */
    static String exampleFile() {
        try (InputStream in = PolarScaleCli.class.getResourceAsStream("polarscale.example.yaml")) {
            if (in == null) {
                throw new IllegalStateException("polarscale.example.yaml is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
