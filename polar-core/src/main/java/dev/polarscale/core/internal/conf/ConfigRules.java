package dev.polarscale.core.internal.conf;

import dev.polarscale.core.ConnInfo;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.Setting;
import dev.polarscale.core.WalLevel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The rules {@code NodeConfig.Builder} enforces: each value on its own (ranges, lists, non-empty
 * strings) and the settings together (a primary never streams; a follower names its slot and
 * primary; a replica needs shared storage, and shared storage needs a host id and a data
 * directory that fits its file-system mode). Every refusal names the setting and its value.
 */
public final class ConfigRules {
    /** Largest value PostgreSQL accepts for max_connections, max_wal_senders and max_replication_slots. */
    private static final int MAX_BACKENDS = 262143;

    private static final Pattern LIBRARY = Pattern.compile("[A-Za-z0-9_$./-]+");
    private static final Pattern LISTEN = Pattern.compile("\\*|[A-Za-z0-9._:-]+");
    private static final Pattern DATADIR = Pattern.compile("(file-dio://|file://)?/.*");

    private ConfigRules() {
    }

    public static String datadir(String datadir) {
        nonEmpty(Setting.POLAR_DATADIR, datadir);
        if (!DATADIR.matcher(datadir).matches()) {
            throw new IllegalArgumentException("invalid polar_datadir '" + GucSyntax.printable(datadir)
                    + "': expected /<disk>/<dir>/, file-dio:///<path>/ or file:///<path>/");
        }
        return datadir;
    }

    public static String libraries(List<String> libraries) {
        return list(Setting.SHARED_PRELOAD_LIBRARIES, libraries, LIBRARY);
    }

    public static String listenAddresses(List<String> addresses) {
        return list(Setting.LISTEN_ADDRESSES, addresses, LISTEN);
    }

    /** A {@code primary_conninfo} must name a {@code host} or {@code hostaddr}. */
    public static ConnInfo conninfo(ConnInfo conninfo) {
        Objects.requireNonNull(conninfo, "primary_conninfo");
        if (conninfo.host().isEmpty() && conninfo.get("hostaddr").isEmpty()) {
            throw new IllegalArgumentException("primary_conninfo '" + conninfo + "' names no host or hostaddr");
        }
        return conninfo;
    }

    /**
     * @throws IllegalStateException the settings contradict each other
     */
    public static void check(NodeRole role, Map<Setting, String> typed, ConnInfo primaryConninfo) {
        if (role == NodeRole.PRIMARY) {
            for (Setting s : List.of(Setting.PRIMARY_CONNINFO, Setting.PRIMARY_SLOT_NAME)) {
                if (typed.containsKey(s)) {
                    throw new IllegalStateException("a PRIMARY must not set " + s.gucName() + " (is: '"
                            + (s == Setting.PRIMARY_CONNINFO ? primaryConninfo.renderMasked() : typed.get(s))
                            + "'); only a replica or standby streams from a primary");
                }
            }
        } else {
            require(role, typed, Setting.PRIMARY_SLOT_NAME, "an empty or missing slot name crashes the PolarDB "
                    + "primary's"
                    + " walsender, which restarts the primary every 5 s");
            require(role, typed, Setting.PRIMARY_CONNINFO, "without it the node never receives WAL");
        }
        boolean shared = "on".equals(typed.get(Setting.POLAR_ENABLE_SHARED_STORAGE_MODE));
        if (role == NodeRole.REPLICA && !shared) {
            throw new IllegalStateException("a REPLICA needs polar_enable_shared_storage_mode=on (is: "
                    + typed.getOrDefault(Setting.POLAR_ENABLE_SHARED_STORAGE_MODE, "not set") + "); the server"
                    + " refuses: 'replica mode is not possible because shared storage mode is disabled'");
        }
        if (shared) {
            checkSharedStorage(role, typed);
        }
        if (WalLevel.MINIMAL.value().equals(typed.get(Setting.WAL_LEVEL))) {
            if (role != NodeRole.PRIMARY || !"0".equals(typed.get(Setting.MAX_WAL_SENDERS))) {
                throw new IllegalStateException("wal_level=minimal needs role PRIMARY (is: " + role
                        + ") and max_wal_senders=0 (is: "
                        + typed.getOrDefault(Setting.MAX_WAL_SENDERS, "not set, default 10") + ")");
            }
        }
    }

    private static void checkSharedStorage(NodeRole role, Map<Setting, String> typed) {
        require(role, typed, Setting.POLAR_HOSTID, "every PolarDB node needs its own host id");
        require(role, typed, Setting.POLAR_DATADIR, "the node cannot find the shared data");
        String datadir = typed.get(Setting.POLAR_DATADIR);
        String localfs = typed.getOrDefault(Setting.POLAR_VFS_LOCALFS_MODE, "not set");
        boolean onLocalFs = datadir.startsWith("file://") || datadir.startsWith("file-dio://");
        if (onLocalFs && !localfs.equals("on")) {
            throw new IllegalStateException("polar_datadir '" + datadir + "' is on a local file system but"
                    + " polar_vfs.localfs_mode is " + localfs + ": set it on, else the postmaster crashes"
                    + " (exit code 139)");
        }
        if (!localfs.equals("on")) {
            require(role, typed, Setting.POLAR_STORAGE_CLUSTER_NAME, "PFS storage (polar_vfs.localfs_mode="
                    + localfs + ") names its PFS cluster");
            require(role, typed, Setting.POLAR_DISK_NAME, "PFS storage (polar_vfs.localfs_mode=" + localfs
                    + ") names its disk");
            String disk = typed.get(Setting.POLAR_DISK_NAME);
            if (!datadir.startsWith("/" + disk + "/")) {
                throw new IllegalStateException("polar_datadir '" + datadir + "' is not on polar_disk_name '"
                        + disk + "': PFS paths start with /" + disk + "/");
            }
        }
    }

    private static void require(NodeRole role, Map<Setting, String> typed, Setting s, String why) {
        if (!typed.containsKey(s)) {
            throw new IllegalStateException("a " + role + " needs " + s.gucName() + ": " + why);
        }
    }

    /**
     * The block's lines: typed settings (quoted by kind), then the others (always quoted).
     *
     * @param maskedConninfo shown instead of {@code primary_conninfo}, or {@code null} for the real one
     */
    public static String render(Map<Setting, String> typed, List<Map.Entry<String, String>> other,
                                String maskedConninfo) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<Setting, String> e : typed.entrySet()) {
            Setting s = e.getKey();
            String v = maskedConninfo != null && s == Setting.PRIMARY_CONNINFO ? maskedConninfo : e.getValue();
            sb.append(s.gucName()).append('=').append(s.kind().quoted() ? GucSyntax.quote(v) : v).append('\n');
        }
        for (Map.Entry<String, String> e : other) {
            sb.append(e.getKey()).append('=').append(GucSyntax.quote(e.getValue())).append('\n');
        }
        return sb.toString();
    }

    public static String onOff(boolean on) {
        return on ? "on" : "off";
    }

    public static String nonEmpty(Setting s, String value) {
        GucSyntax.checkValue(s.gucName(), value);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(s.gucName() + " must not be empty");
        }
        return value;
    }

    public static String range(Setting s, int value, int min) {
        if (value < min || value > MAX_BACKENDS) {
            throw new IllegalArgumentException(s.gucName() + " must be in " + min + ".." + MAX_BACKENDS + ": "
                    + value);
        }
        return Integer.toString(value);
    }

    public static String list(Setting s, List<String> items, Pattern valid) {
        Objects.requireNonNull(items, s.gucName());
        List<String> checked = new ArrayList<>(items.size());
        for (String item : items) {
            Objects.requireNonNull(item, s.gucName() + " element");
            if (!valid.matcher(item).matches()) {
                throw new IllegalArgumentException("invalid " + s.gucName() + " element '"
                        + GucSyntax.printable(item) + "': must match " + valid.pattern());
            }
            checked.add(item);
        }
        return String.join(",", checked);
    }
}
