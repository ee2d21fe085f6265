package dev.polarscale.examples.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs the packaged {@code polarscale.jar} as a child process, as a user does: {@code java -jar},
 * standard output and error to files (so neither pipe can fill up), a deadline, and the
 * environment given. Failsafe names the jar ({@code polarscale.cli.jar}); where it is missing the
 * test is skipped with the reason.
 */
final class CliProcess {
    private static final long TIMEOUT_SECONDS = 300;

    record Run(List<String> args, int code, String out, String err, long millis) {
        @Override
        public String toString() {
            return "polarscale " + String.join(" ", args) + " -> exit " + code + " in " + millis + " ms\n--- stdout\n"
                    + out + "--- stderr\n" + err;
        }
    }

    private final Path jar;
    private final Path work;
    private final Map<String, String> env = new HashMap<>();
    private final List<String> prefix = new ArrayList<>();

    CliProcess(Path work) {
        String j = System.getProperty("polarscale.cli.jar");
        this.jar = j == null ? Path.of("target", "polarscale.jar") : Path.of(j);
        assumeTrue(Files.isRegularFile(jar), "the packaged jar is missing (run by Failsafe after package): " + jar);
        this.work = work;
    }

    CliProcess env(String name, String value) {
        env.put(name, value);
        return this;
    }

    /** Runs {@code java} under this argv prefix (e.g. one that hides the server binaries). */
    CliProcess prefix(List<String> argv) {
        prefix.clear();
        prefix.addAll(argv);
        return this;
    }

    Run run(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(work, "out-", ".txt");
        Path err = Files.createTempFile(work, "err-", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().remove(PolarScaleCli.CLUSTER_FILE_ENV);
        pb.environment().putAll(env);
        long t0 = System.nanoTime();
        Process p = pb.start();
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
                throw new AssertionError("polarscale " + args[0] + " did not end within " + TIMEOUT_SECONDS + " s");
            }
            Run r = new Run(List.of(args), p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8), (System.nanoTime() - t0) / 1_000_000);
            System.out.println(r);
            return r;
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /**
     * After a test: every postmaster whose data directory is below {@code dir} and still runs is
     * killed (the tests stop their servers with {@code polarscale stop}; this is for a failure).
     *
     * @return how many were killed
     */
    static int killServersBelow(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int killed = 0;
        try (Stream<Path> pids = Files.find(dir, 3, (p, a) -> p.getFileName().toString().equals("postmaster.pid"))) {
            for (Path pidFile : pids.toList()) {
                long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
                var h = ProcessHandle.of(pid);
                if (h.isPresent() && h.get().info().command().orElse("").contains("postgres")) {
                    h.get().destroyForcibly();
                    killed++;
                }
            }
        }
        return killed;
    }

    /** {@code rm -rf}, also for files the server OS user owns (the tests run as root or as that user). */
    static void deleteTree(Path dir) throws IOException, InterruptedException {
        if (Files.exists(dir)) {
            new ProcessBuilder("rm", "-rf", "--", dir.toString()).inheritIO().start().waitFor(2, TimeUnit.MINUTES);
        }
    }
}
