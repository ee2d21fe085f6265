package dev.polarscale.replication.internal;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.Secrets;
import org.postgresql.util.PasswordUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The deploy's {@code initdb} step when the spec names a template cache: the primary's data
 * directory is a copy of a pristine {@code initdb} kept per host, binaries (version output and
 * bin directory), superuser and initdb options, then made a cluster of its own. What a copy must
 * not share with the template or another copy, and how it gets its own:
 * <ul>
 *   <li>the system identifier (a standby of one cluster would otherwise accept another's WAL) and
 *       the mock authentication nonce: rewritten in {@code global/pg_control}, the identifier
 *       also in each WAL segment's page header ({@link ControlFile});</li>
 *   <li>the superuser's password: the template's is random and thrown away when the template is
 *       made; each copy gets the node's own as a SCRAM verifier computed here, in single-user
 *       mode before the server ever listens. That run also proves the copy boots with its new
 *       identity: it must report the new identifier from {@code pg_control_system()}.</li>
 * </ul>
 * The same single-user run creates what the deploy would create next with DDL (the registry's
 * schema), where that costs little.
 *
 * <p>The template is made once under {@code <cache>/pgdata-<version>-<hash>} the way
 * {@code ConfigTemplates} makes its own: {@code initdb} into a private temporary directory
 * (synced, so a crash cannot leave a torn template), WAL segments made sparse (PolarDB's 1 GiB
 * segment is mostly zeros: PostgreSQL itself makes sparse segments with {@code wal_init_zero=off}),
 * then {@code mv -T} into place; under {@code flock} where the host has it, and correct without it
 * (the rename is atomic and never lands on a complete template). Everything runs through the
 * host's executor as the server OS user, so a remote host works the same.
 *
 * <p>Where the template cannot be used (it cannot be made or copied, the control file is not of
 * the expected shape, the copy does not boot) the copy is deleted and a real {@code initdb} runs,
 * with a warning that says why. The undo deletes the data directory only if this step created or
 * filled it.
 */
public final class InitdbTemplate {
    private static final Logger LOG = LoggerFactory.getLogger(InitdbTemplate.class);
    /** The options {@code PostgresNode.initdb()} gives initdb besides the directory, superuser and password. */
    static final List<String> INITDB_OPTIONS = List.of("-E", "UTF8", "--locale=C", "--auth-host=scram-sha-256",
            "--auth-local=peer");
    /** Bumped when what a template holds changes, so old templates are not used. */
    private static final String LAYOUT = "1";
    private static final Pattern VERSION = Pattern.compile("\\d+(\\.\\d+)*");
    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
    private static final Pattern SYSID = Pattern.compile("system_identifier = \"(\\d+)\"");
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final Duration LONG = Duration.ofMinutes(10);
    private static final Duration SINGLE_USER_TIMEOUT = Duration.ofMinutes(2);
    private static final int NOT_EMPTY = 4;
    private static final int HOLDS_CLUSTER = 3;
    private static final int NO_CACHE = 7;

    /** $1 data directory, $2 postgres: refuses a directory that holds anything, then prints the version. */
    private static final String PROBE = "if [ -e \"$1/PG_VERSION\" ]; then exit " + HOLDS_CLUSTER + "; fi; "
            + "if [ -e \"$1\" ] && [ -n \"$(ls -A \"$1\")\" ]; then exit " + NOT_EMPTY + "; fi; exec \"$2\" --version";

    /**
     * $1 cache, $2 key, $3 initdb, $4 superuser, $5 data directory, then the initdb options; stdin:
     * the template's throw-away password. Makes the template if missing, copies it, dumps the
     * control file and the first 40 bytes of each WAL file.
     */
    private static final String ENSURE_AND_COPY = String.join("\n",
            "set -eu; umask 077",
            "c=$1; t=\"$1/$2\"; i=$3; u=$4; d=$5; shift 5",
            "ok() { [ -f \"$t/PG_VERSION\" ] && [ -f \"$t/global/pg_control\" ]; }",
            "if ! ok; then",
            "  [ -d \"$c\" ] || exit " + NO_CACHE,
            "  if command -v flock >/dev/null 2>&1; then",
            "    exec 9>>\"$t.lock\"; flock -w 600 9; rm -rf -- \"$t\".tmp-*  # left by a builder that died",
            "  fi",
            "  if ! ok; then",
            "    tmp=$(mktemp -d \"$t.tmp-XXXXXX\"); trap 'rm -rf \"$tmp\"' EXIT",
            "    cat > \"$tmp/pw\"",
            "    if ! \"$i\" -D \"$tmp/pgdata\" -U \"$u\" --pwfile=\"$tmp/pw\" \"$@\" > \"$tmp/log\" 2>&1; then",
            "      cat \"$tmp/log\" >&2; exit 5",
            "    fi",
            "    rm -f \"$tmp/pw\"",
            "    for f in \"$tmp\"/pgdata/pg_wal/0*; do",
            "      [ -f \"$f\" ] || continue",
            "      if cp --sparse=always -p -- \"$f\" \"$f.s\" 2>/dev/null; then mv -f -- \"$f.s\" \"$f\";"
                    + " sync -- \"$f\" 2>/dev/null || true; else rm -f -- \"$f.s\"; fi",
            "    done",
            "    mv -T -- \"$tmp/pgdata\" \"$t\" 2>/dev/null || ok || { echo \"cannot move the template into $t\" >&2;"
                    + " exit 6; }",
            "    sync -- \"$c\" 2>/dev/null || true",
            "    echo '== built'",
            "  fi",
            "fi",
            "cp -a -- \"$t/.\" \"$d/\"",
            "echo '== pg_control'; od -An -v -tx1 \"$d/global/pg_control\"",
            "for f in \"$d\"/pg_wal/*; do [ -f \"$f\" ] || continue; echo \"== wal ${f##*/}\";"
                    + " od -An -v -tx1 -N " + ControlFile.WAL_HEADER_LENGTH + " \"$f\"; done");

    /** $1 data directory, then pairs of WAL file name and printf text of its new identifier; stdin: pg_control. */
    private static final String WRITE_IDENTITY = String.join("\n",
            "set -eu",
            "d=$1; shift",
            "(umask 077 && cat > \"$d/global/pg_control.polarscale-tmp\")",
            "[ $(wc -c < \"$d/global/pg_control.polarscale-tmp\") -eq " + ControlFile.SIZE + " ] || exit 3",
            "mv -f -- \"$d/global/pg_control.polarscale-tmp\" \"$d/global/pg_control\"",
            "while [ $# -ge 2 ]; do printf \"$2\" | dd of=\"$d/pg_wal/$1\" bs=1 seek=" + ControlFile.WAL_SYSID_OFFSET
                    + " count=8 conv=notrunc 2>/dev/null; shift 2; done");

    private final PostgresNode node;
    private final String host;
    private final Path cacheDir;
    private final List<String> setupSql;
    private final SecureRandom random = new SecureRandom();
    private volatile boolean filled;

    private InitdbTemplate(PostgresNode node, String host, Path cacheDir, List<String> setupSql) {
        this.node = node;
        this.host = host;
        this.cacheDir = cacheDir;
        this.setupSql = List.copyOf(setupSql);
    }

    /**
     * The deploy's {@code initdb} step for {@code node} on {@code host}, from a template in
     * {@code cacheDir} there.
     *
     * @param setupSql one-line statements for the copy's single-user run, e.g. the registry's
     *                 schema: DDL there costs a fraction of what it costs on a running PolarDB
     *                 primary, where each new relation goes to shared storage (a later step
     *                 that creates them "if not exists" then finds them)
     */
    public static Step step(PostgresNode node, String host, Path cacheDir, List<String> setupSql) {
        InitdbTemplate t = new InitdbTemplate(node, host, cacheDir, setupSql);
        return Step.of("initdb", host, t.planned(), t::run).undoneEvenIfHalfDone(t::undo);
    }

    List<String> planned() {
        String dir = node.dataDirectory().toString();
        String template = cacheDir + "/pgdata-<version>-<hash of binaries, superuser, options>";
        List<String> initdb = new ArrayList<>(List.of("initdb", "-D", "<dir>", "-U", node.superuser(),
                "--pwfile=<0600 temp file>"));
        initdb.addAll(INITDB_OPTIONS);
        return List.of(
                "template " + template + ", made once (flock, then mv -T): " + String.join(" ", initdb)
                        .replace("<dir>", "<temp dir>").replace("<0600 temp file>", "<throw-away password>")
                        + "; WAL made sparse",
                "cp -a " + template + "/. " + dir,
                "global/pg_control: new system identifier and mock authentication nonce (CRC-32C recomputed); "
                        + "pg_wal/*: the new identifier in each segment's page header",
                node.serverCommand("postgres", "--single", "-D", dir, "-c", "exit_on_error=on", "postgres")
                        + " <<< ALTER USER \"" + node.superuser() + "\" PASSWORD 'SCRAM-SHA-256$<verifier computed "
                        + "here>'; " + setupSql.stream().map(q -> q.split(" \\(", 2)[0] + "; ").collect(
                        java.util.stream.Collectors.joining()) + "SELECT system_identifier FROM pg_control_system()  "
                        + "-- must be the new one",
                "where the template cannot be used: the copy is deleted, then " + node.serverCommand("initdb",
                        "-D", dir, "-U", node.superuser(), "--pwfile=<0600 temp file>", "-E", "UTF8", "--locale=C",
                        "--auth-host=scram-sha-256", "--auth-local=peer", "--no-sync"));
    }

    void run() {
        long t0 = System.nanoTime();
        String version = probe();
        filled = true;
        try {
            node.createDirectory(node.dataDirectory());
            String key = key(version, node.installation().binDir(), node.superuser());
            String split = copyAndPersonalize(key);
            LOG.info("{} - initdb from template {}/{} in {} ms ({})", node.name(), cacheDir, key,
                    (System.nanoTime() - t0) / 1_000_000, split);
        } catch (RuntimeException e) {
            if (e instanceof PolarException p && p.reason() == PolarException.Reason.INTERRUPTED) {
                throw e;
            }
            LOG.warn("{} - the initdb template in {} cannot be used ({}); running initdb instead", node.name(),
                    cacheDir, e.getMessage());
            try {
                node.deleteDataDirectory();
                node.initdb();
            } catch (RuntimeException again) {
                again.addSuppressed(e);
                throw again;
            }
        }
    }

    private void undo() {
        if (filled) {
            node.deleteDataDirectory();
        }
    }

    /** Refuses a directory that holds anything (nothing touched then); returns {@code postgres --version}. */
    private String probe() {
        Command probe = Command.of("sh", "-c", PROBE, "sh", node.dataDirectory().toString(),
                node.installation().tool("postgres").toString()).withTimeout(SHORT);
        CommandResult r = node.executor().execute(node.osUser().map(probe::asUser).orElse(probe));
        if (r.exitCode() == HOLDS_CLUSTER) {
            throw new PolarException(PolarException.Reason.DATA_DIRECTORY_EXISTS, node.name(), host, null,
                    node.name() + " - data directory " + node.dataDirectory() + " already holds a cluster", null);
        }
        if (r.exitCode() == NOT_EMPTY) {
            throw new PolarException(PolarException.Reason.DIRECTORY_NOT_EMPTY, node.name(), host, null,
                    node.name() + " - data directory " + node.dataDirectory() + " exists and is not empty", null);
        }
        if (!r.succeeded()) {
            throw new PolarException(PolarException.Reason.COMMAND_FAILED, node.name(), host, null,
                    node.name() + " - cannot run " + node.installation().tool("postgres") + " --version (exit "
                            + r.exitCode() + "): " + r.stderrTail(3).strip(), null);
        }
        return r.stdout().strip();
    }

    /** @return how long copy, rewrite and single-user run took, for the log */
    private String copyAndPersonalize(String key) {
        long t0 = System.nanoTime();
        String dir = node.dataDirectory().toString();
        String throwAway = Secrets.randomPassword();
        List<String> argv = new ArrayList<>(List.of("sh", "-c", ENSURE_AND_COPY, "sh", cacheDir.toString(), key,
                node.installation().tool("initdb").toString(), node.superuser(), dir));
        argv.addAll(INITDB_OPTIONS);
        Command copy = Command.of(argv).withStdin(throwAway + "\n").withSecret(throwAway).withTimeout(LONG);
        Command c = node.osUser().map(copy::asUser).orElse(copy);
        CommandResult r = node.executor().execute(c);
        if (r.exitCode() == NO_CACHE) { // the first template on this host: the cache directory, then again
            node.createDirectory(cacheDir);
            r = node.executor().execute(c);
        }
        if (!r.succeeded()) {
            throw new PolarException(PolarException.Reason.COMMAND_FAILED, node.name(), host, null, node.name()
                    + " - making or copying template " + cacheDir + "/" + key + " failed (exit " + r.exitCode()
                    + "): " + c.redact(r.stderrTail(5)).strip(), null);
        }
        Map<String, byte[]> dump = sections(r.stdout());
        if (dump.containsKey("built")) {
            LOG.info("{} - made initdb template {}/{}", node.name(), cacheDir, key);
        }
        long t1 = System.nanoTime();
        byte[] control = dump.get("pg_control");
        if (control == null) {
            throw new IllegalStateException("no pg_control in the copy of template " + key);
        }
        long old = ControlFile.systemIdentifier(control);
        long id = ControlFile.newSystemIdentifier(old, Instant.now(), random);
        byte[] nonce = new byte[ControlFile.NONCE_LENGTH];
        random.nextBytes(nonce);
        byte[] newControl = ControlFile.withIdentity(control, id, nonce);
        List<String> write = new ArrayList<>(List.of("sh", "-c", WRITE_IDENTITY, "sh", dir));
        for (Map.Entry<String, byte[]> e : dump.entrySet()) {
            if (!e.getKey().startsWith("wal ") || !SEGMENT.matcher(e.getKey().substring(4)).matches()) {
                continue;
            }
            long walId = ControlFile.walSystemIdentifier(e.getValue());
            if (walId != old) {
                throw new IllegalStateException("WAL file " + e.getKey().substring(4) + " of template " + key
                        + " has system identifier " + Long.toUnsignedString(walId) + ", pg_control "
                        + Long.toUnsignedString(old));
            }
            write.add(e.getKey().substring(4));
            write.add(ControlFile.printfOctal(ControlFile.littleEndian(id)));
        }
        if (write.size() == 5) {
            throw new IllegalStateException("template " + key + " holds no WAL segment");
        }
        Command w = Command.of(write).withStdin(newControl).withTimeout(SHORT);
        node.executor().run(node.osUser().map(w::asUser).orElse(w));
        long t2 = System.nanoTime();
        setPasswordAndCheck(id);
        return (dump.containsKey("built") ? "made and copied " : "copy ") + (t1 - t0) / 1_000_000 + " ms, identity "
                + (t2 - t1) / 1_000_000 + " ms, single-user " + (System.nanoTime() - t2) / 1_000_000 + " ms";
    }

    /** Single-user mode: the node's password, and proof that the copy boots with its new identifier. */
    private void setPasswordAndCheck(long id) {
        String alter;
        try {
            alter = PasswordUtil.genAlterUserPasswordSQL(node.superuser(), node.password().toCharArray(),
                    "scram-sha-256");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot compute the SCRAM verifier", e);
        }
        StringBuilder sql = new StringBuilder(alter.replace('\n', ' ')).append('\n');
        setupSql.forEach(q -> sql.append(q.replace('\n', ' ')).append('\n'));
        sql.append("SELECT system_identifier FROM pg_control_system()\n");
        CommandResult r = node.executor().run(node.serverCommand("postgres", "--single", "-D",
                        node.dataDirectory().toString(), "-c", "exit_on_error=on", "postgres")
                .withStdin(sql.toString()).withSecret(alter).withTimeout(SINGLE_USER_TIMEOUT));
        Matcher m = SYSID.matcher(r.stdout());
        String got = m.find() ? m.group(1) : "nothing";
        if (!got.equals(Long.toUnsignedString(id))) {
            throw new IllegalStateException("the copy reports system identifier " + got + " in single-user mode, "
                    + "expected " + Long.toUnsignedString(id));
        }
    }

    /** {@code pgdata-pg<version>-<12 hex of SHA-256(layout, bin dir, version output, superuser, options)>}. */
    static String key(String versionOutput, Path binDir, String superuser) {
        Matcher m = VERSION.matcher(versionOutput);
        String v = m.find() ? m.group() : "unknown";
        String all = String.join("\n", LAYOUT, binDir.toString(), versionOutput, superuser,
                String.join(" ", INITDB_OPTIONS));
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(all.getBytes(StandardCharsets.UTF_8));
            return "pgdata-pg" + v + "-" + HexFormat.of().formatHex(h).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** The {@code == name} sections of the copy script's output, as bytes ({@code od} hex). */
    static Map<String, byte[]> sections(String out) {
        Map<String, List<String>> lines = new LinkedHashMap<>();
        List<String> current = null;
        for (String l : out.split("\n")) {
            if (l.startsWith("== ")) {
                current = new ArrayList<>();
                lines.put(l.substring(3).strip(), current);
            } else if (current != null && !l.isBlank()) {
                current.add(l);
            }
        }
        Map<String, byte[]> bytes = new LinkedHashMap<>();
        lines.forEach((k, v) -> bytes.put(k, ControlFile.fromOd(v)));
        return bytes;
    }
}
