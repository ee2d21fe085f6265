package dev.polarscale.core;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An immutable description of one process to run: an argument list (never a shell string),
 * plus environment, working directory, standard input, timeout and the OS identity to run as.
 * Every {@code with...} method returns a new instance and rejects a bad value at once.
 *
 * <pre>{@code
 * Command cmd = Command.of("/usr/lib/postgresql/15/bin/pg_ctl", "-D", dataDir.toString(), "status")
 *         .withTimeout(Duration.ofSeconds(10))
 *         .asUser("postgres");
 * CommandResult r = executor.execute(cmd);   // any exit code
 * executor.run(cmd);                         // throws CommandFailedException unless exit 0
 * }</pre>
 *
 * <p>{@link #withSecret(String)} registers a value (a password) that is replaced by
 * {@value #MASK} in every log line and exception message.
 */
public final class Command {

    /** What a secret is replaced with. */
    public static final String MASK = "******";

    /** The timeout a command gets unless it says otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);

    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern OS_USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
    private static final Pattern SECRET_ENV = Pattern.compile("(?i).*(PASSWORD|PASSWD|SECRET|TOKEN).*");

    private final List<String> argv;
    private final Map<String, String> environment;
    private final Path workingDirectory;
    private final byte[] stdin;
    private final Duration timeout;
    private final String runAs;
    private final boolean privileged;
    private final Set<String> secrets;
    private final OutputListener outputListener;

    private Command(List<String> argv, Map<String, String> environment, Path workingDirectory, byte[] stdin,
                    Duration timeout, String runAs, boolean privileged, Set<String> secrets,
                    OutputListener outputListener) {
        this.argv = argv;
        this.environment = environment;
        this.workingDirectory = workingDirectory;
        this.stdin = stdin;
        this.timeout = timeout;
        this.runAs = runAs;
        this.privileged = privileged;
        this.secrets = secrets;
        this.outputListener = outputListener;
    }

    /** A command from its program and arguments, each passed to the process as it is. */
    public static Command of(String program, String... args) {
        Objects.requireNonNull(args, "args");
        List<String> all = new ArrayList<>(args.length + 1);
        all.add(program);
        all.addAll(Arrays.asList(args));
        return of(all);
    }

    /** A command from an argument list whose first element is the program. */
    public static Command of(List<String> argv) {
        Objects.requireNonNull(argv, "argv");
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("argv must not be empty");
        }
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            if (a == null) {
                throw new IllegalArgumentException("argv[" + i + "] is null");
            }
            if (a.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("argv[" + i + "] contains a NUL character: " + a.replace('\0', '?'));
            }
        }
        if (argv.get(0).isBlank()) {
            throw new IllegalArgumentException("program (argv[0]) must not be blank");
        }
        return new Command(List.copyOf(argv), Map.of(), null, null, DEFAULT_TIMEOUT, null, false, Set.of(), null);
    }

    /** Adds (or replaces) one environment variable; values of names like {@code *PASSWORD*} are masked in logs. */
    public Command withEnv(String name, String value) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value of " + name);
        if (!ENV_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid environment variable name: '" + name + "'");
        }
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("environment variable " + name + " contains a NUL character");
        }
        Map<String, String> env = new LinkedHashMap<>(environment);
        env.put(name, value);
        Command c = copy(Collections.unmodifiableMap(env), workingDirectory, stdin, timeout, runAs, privileged,
                secrets, outputListener);
        return SECRET_ENV.matcher(name).matches() && !value.isEmpty() ? c.withSecret(value) : c;
    }

    public Command withEnv(Map<String, String> env) {
        Command c = this;
        for (Map.Entry<String, String> e : env.entrySet()) {
            c = c.withEnv(e.getKey(), e.getValue());
        }
        return c;
    }

    /** The directory the process starts in; must be absolute. */
    public Command withWorkingDirectory(Path dir) {
        Objects.requireNonNull(dir, "dir");
        if (!dir.isAbsolute()) {
            throw new IllegalArgumentException("working directory must be absolute: " + dir);
        }
        return copy(environment, dir, stdin, timeout, runAs, privileged, secrets, outputListener);
    }

    /** Bytes written to the process's standard input, which is then closed. */
    public Command withStdin(byte[] input) {
        Objects.requireNonNull(input, "input");
        return copy(environment, workingDirectory, input.clone(), timeout, runAs, privileged, secrets, outputListener);
    }

    public Command withStdin(String input) {
        return withStdin(input.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** How long the command may run before it and every process it started are killed. */
    public Command withTimeout(Duration t) {
        Objects.requireNonNull(t, "timeout");
        if (t.isZero() || t.isNegative()) {
            throw new IllegalArgumentException("timeout must be positive: " + t);
        }
        return copy(environment, workingDirectory, stdin, t, runAs, privileged, secrets, outputListener);
    }

    /**
     * Runs the command as this OS user. Executors switch user with {@code runuser} when they
     * are root and with {@code sudo -n -u} otherwise; nothing happens when already that user.
     */
    public Command asUser(String osUser) {
        Objects.requireNonNull(osUser, "osUser");
        if (!OS_USER.matcher(osUser).matches()) {
            throw new IllegalArgumentException("invalid OS user name: '" + osUser + "'");
        }
        if (privileged) {
            throw new IllegalStateException("a command is either privileged or run as a user, not both");
        }
        return copy(environment, workingDirectory, stdin, timeout, osUser, false, secrets, outputListener);
    }

    /** Runs the command as root ({@code sudo -n} when the executor is not root already). */
    public Command privileged() {
        if (runAs != null) {
            throw new IllegalStateException("a command is either privileged or run as a user, not both");
        }
        return copy(environment, workingDirectory, stdin, timeout, null, true, secrets, outputListener);
    }

    /** A value that must never appear in logs or exception messages. */
    public Command withSecret(String secret) {
        Objects.requireNonNull(secret, "secret");
        if (secret.isEmpty()) {
            throw new IllegalArgumentException("secret must not be empty");
        }
        Set<String> s = new LinkedHashSet<>(secrets);
        s.add(secret);
        return copy(environment, workingDirectory, stdin, timeout, runAs, privileged,
                Collections.unmodifiableSet(s), outputListener);
    }

    /** Streams output lines to {@code listener} while the command runs. */
    public Command withOutputListener(OutputListener listener) {
        Objects.requireNonNull(listener, "listener");
        return copy(environment, workingDirectory, stdin, timeout, runAs, privileged, secrets, listener);
    }

    private Command copy(Map<String, String> env, Path wd, byte[] in, Duration t, String user, boolean priv,
                         Set<String> sec, OutputListener l) {
        return new Command(argv, env, wd, in, t, user, priv, sec, l);
    }

    public List<String> argv() {
        return argv;
    }

    public String program() {
        return argv.get(0);
    }

    public Map<String, String> environment() {
        return environment;
    }

    public Optional<Path> workingDirectory() {
        return Optional.ofNullable(workingDirectory);
    }

    public Optional<byte[]> stdin() {
        return Optional.ofNullable(stdin).map(byte[]::clone);
    }

    public Duration timeout() {
        return timeout;
    }

    public Optional<String> runAs() {
        return Optional.ofNullable(runAs);
    }

    public boolean isPrivileged() {
        return privileged;
    }

    public Set<String> secrets() {
        return secrets;
    }

    public Optional<OutputListener> outputListener() {
        return Optional.ofNullable(outputListener);
    }

    /** {@code text} with every registered secret replaced by {@value #MASK}. */
    public String redact(String text) {
        if (text == null || secrets.isEmpty()) {
            return text;
        }
        String out = text;
        for (String s : secrets) {
            out = out.replace(s, MASK);
        }
        return out;
    }

    /** {@code result} with every registered secret masked in its output. */
    public CommandResult redact(CommandResult result) {
        if (secrets.isEmpty()) {
            return result;
        }
        return new CommandResult(result.exitCode(), redact(result.stdout()), redact(result.stderr()), result.duration());
    }

    /** The argument list with every secret masked. */
    public List<String> redactedArgv() {
        List<String> out = new ArrayList<>(argv.size());
        for (String a : argv) {
            out.add(redact(a));
        }
        return Collections.unmodifiableList(out);
    }

    /** A one-line, shell-like rendering for logs; secrets masked. Not meant to be executed. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        if (runAs != null) {
            sb.append('[').append(runAs).append("] ");
        } else if (privileged) {
            sb.append("[root] ");
        }
        for (String a : redactedArgv()) {
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ' ') {
                sb.append(' ');
            }
            sb.append(ShellQuoting.needsQuoting(a) ? ShellQuoting.quote(a) : a);
        }
        return sb.toString();
    }
}
