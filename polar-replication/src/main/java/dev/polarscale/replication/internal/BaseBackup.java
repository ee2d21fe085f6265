package dev.polarscale.replication.internal;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import dev.polarscale.replication.ReplicationException;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Copies a primary's data directory into a new standby's.
 *
 * <p>With {@code pg_basebackup} installed: {@code pg_basebackup -S <slot> -X stream}, run on the
 * standby's host as the server user, the replication password in {@code PGPASSWORD} (masked,
 * and out of {@code ps} when the executor is root, since {@code runuser} keeps the environment).
 *
 * <p>Without it (the embedded binaries have none), and only when both nodes share a host: the
 * low-level backup API. {@code pg_backup_start} on a held session, a {@code tar} copy of the
 * data directory without the files a base backup leaves out, {@code pg_backup_stop}, whose
 * label becomes {@code backup_label}. The slot was created with reserved WAL before the copy,
 * so the standby streams every WAL record it needs from the primary.
 */
public final class BaseBackup {
    private static final Duration COPY_TIMEOUT = Duration.ofMinutes(30);

    /** What the low-level copy leaves out, as in the documentation of the backup API. */
    static final List<String> EXCLUDES = List.of("./postmaster.pid", "./postmaster.opts", "./pg_wal/*",
            "./pg_replslot/*", "./pg_stat_tmp/*", "./pg_dynshmem/*", "./pg_notify/*", "./pg_serial/*",
            "./pg_snapshots/*", "./pg_subtrans/*", "./pgsql_tmp*", "./pg_internal.init", "./.s.PGSQL.*",
            "./pg_ctl.log", "./polarscale.pgpass", "./standby.signal", "./backup_label", "./log/*", "./pg_log/*");

    private BaseBackup() {
    }

    /**
     * {@code pg_basebackup} from {@code sourceHost:sourcePort}, the primary or a standby.
     *
     * @param slot    the new node's slot, when the source is the primary (it holds the slot); a
     *                standby source has none of it: without {@code -S}, {@code pg_basebackup}
     *                keeps the WAL it streams with a temporary slot on the source
     * @param maxRate {@code --max-rate} in kB/s, when limited
     * @param noSync  {@code --no-sync}: only for a primary that runs with {@code fsync=off}, whose
     *                copies (they inherit the setting) gain nothing from being flushed
     */
    public static Command pgBasebackup(PostgresNode standby, String sourceHost, int sourcePort, String replUser,
                                       String replPassword, Optional<SlotName> slot, OptionalInt maxRate,
                                       boolean noSync) {
        List<String> args = new ArrayList<>(List.of("-D", standby.dataDirectory().toString(), "-h", sourceHost,
                "-p", Integer.toString(sourcePort), "-U", replUser));
        slot.ifPresent(s -> args.addAll(List.of("-S", s.value())));
        args.addAll(List.of("-X", "stream", "--checkpoint=fast", "--no-password"));
        maxRate.ifPresent(r -> args.add("--max-rate=" + r));
        if (noSync) {
            args.add("--no-sync");
        }
        return standby.serverCommand("pg_basebackup", args.toArray(String[]::new))
                .withEnv("PGPASSWORD", replPassword)
                .withEnv("PGAPPNAME", standby.name() + "_basebackup")
                .withTimeout(COPY_TIMEOUT);
    }

    /** Whether the primary runs with {@code fsync=off} (a throw-away cluster, such as a test fixture's). */
    public static boolean primaryRunsWithoutFsync(DataSource primary, String node) {
        try (Connection c = primary.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('fsync')")) {
            return rs.next() && "off".equals(rs.getString(1));
        } catch (SQLException e) {
            throw ReplicationException.of(node, "read the primary's fsync setting", e);
        }
    }

    /** The copy command of the low-level fallback (shown by {@code plan}). */
    public static Command copyCommand(PostgresNode primary, PostgresNode standby) {
        // umask 077: what tar extracts and mkdir creates is owner-only, whatever the user's umask (a
        // umask of 022 left pg_wal/archive_status 0755 in the standby's data directory)
        StringBuilder script = new StringBuilder("umask 077; tar -C \"$1\" --warning=no-file-changed --warning=no-file-removed");
        for (String ex : EXCLUDES) {
            script.append(" --exclude='").append(ex).append('\'');
        }
        script.append(" -cf - . | tar -C \"$2\" -xf - ; rc=$?; mkdir -p \"$2/pg_wal/archive_status\" \"$2/pg_replslot\"; exit $rc");
        Command c = Command.of("sh", "-c", script.toString(), "sh", primary.dataDirectory().toString(),
                standby.dataDirectory().toString()).withTimeout(COPY_TIMEOUT);
        return standby.osUser().map(c::asUser).orElse(c);
    }

    /** Runs the low-level fallback: backup start, copy, backup stop, {@code backup_label}. */
    public static void lowLevelCopy(PostgresNode primary, PostgresNode standby) {
        CommandExecutor exec = standby.executor();
        try (Connection c = primary.connect()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_backup_start(?, true)")) {
                ps.setString(1, "polarscale " + standby.name());
                ps.execute();
            }
            String label;
            try {
                CommandResult r = exec.execute(copyCommand(primary, standby));
                // tar exits 1 when a file changed while it was read: expected on a live primary
                if (r.exitCode() > 1) {
                    throw new ReplicationException(PolarException.Reason.COMMAND_FAILED, standby.name(),
                            standby.name() + " - copying " + primary.dataDirectory() + " failed (exit "
                            + r.exitCode() + "): " + r.stderrTail(10));
                }
            } finally {
                try (PreparedStatement ps = c.prepareStatement("SELECT labelfile FROM pg_backup_stop(true)");
                     ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    label = rs.getString(1);
                }
            }
            standby.writeFile("backup_label", label);
        } catch (SQLException e) {
            throw ReplicationException.of(standby.name(), "make a low-level backup of " + primary.name(), e);
        }
    }
}
