package dev.polarscale.core;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The configuration parameters {@link NodeConfig} sets through typed methods, like pgjdbc's
 * {@code PGProperty}: the parameter name, its kind (which decides whether the value is quoted)
 * and what it is for. They are rendered in this order; any other parameter, set through
 * {@link NodeConfig.Builder#set(String, String)}, follows.
 *
 * <pre>{@code
 * Setting.forName("polar_vfs.localfs_mode").orElseThrow().kind();   // Kind.BOOLEAN
 * cfg.value(Setting.PORT);                                           // Optional[5433]
 * }</pre>
 */
public enum Setting {
    PORT("port", Kind.INTEGER, "TCP port the server listens on"),
    POLAR_HOSTID("polar_hostid", Kind.INTEGER, "PolarDB compute node id, unique in the cluster, 1..512"),
    POLAR_ENABLE_SHARED_STORAGE_MODE("polar_enable_shared_storage_mode", Kind.BOOLEAN,
            "PolarDB: keep the data on shared storage; required for a replica"),
    POLAR_DISK_NAME("polar_disk_name", Kind.STRING, "PolarDB: PFS disk (block device) name"),
    POLAR_DATADIR("polar_datadir", Kind.STRING,
            "PolarDB: shared data directory, /<disk>/<dir>/ on PFS or file-dio:///<path>/ on a local file system"),
    POLAR_VFS_LOCALFS_MODE("polar_vfs.localfs_mode", Kind.BOOLEAN,
            "PolarDB: shared storage is a local file system instead of PFS"),
    SHARED_PRELOAD_LIBRARIES("shared_preload_libraries", Kind.LIST, "libraries loaded at server start"),
    POLAR_STORAGE_CLUSTER_NAME("polar_storage_cluster_name", Kind.STRING, "PolarDB: PFS cluster name"),
    LOGGING_COLLECTOR("logging_collector", Kind.BOOLEAN, "write the server log to files in log_directory"),
    LOG_LINE_PREFIX("log_line_prefix", Kind.STRING, "printf-style prefix of every log line"),
    LOG_DIRECTORY("log_directory", Kind.STRING, "log directory, relative to the data directory"),
    LISTEN_ADDRESSES("listen_addresses", Kind.LIST, "addresses the server listens on"),
    MAX_CONNECTIONS("max_connections", Kind.INTEGER, "maximum concurrent connections"),
    PRIMARY_CONNINFO("primary_conninfo", Kind.STRING, "libpq connection string of the primary (may hold a password)"),
    PRIMARY_SLOT_NAME("primary_slot_name", Kind.STRING, "replication slot on the primary this node streams from"),
    MAX_WAL_SENDERS("max_wal_senders", Kind.INTEGER, "maximum walsender processes (caps the replica count)"),
    MAX_REPLICATION_SLOTS("max_replication_slots", Kind.INTEGER, "maximum replication slots (caps the replica count)"),
    WAL_LEVEL("wal_level", Kind.ENUM, "how much information is written to the WAL"),
    HOT_STANDBY("hot_standby", Kind.BOOLEAN, "allow queries during recovery");

    /** How a value is written; only {@link #STRING} and {@link #LIST} values are quoted. */
    public enum Kind {
        INTEGER(false), BOOLEAN(false), ENUM(false), STRING(true), LIST(true);

        private final boolean quoted;

        Kind(boolean quoted) {
            this.quoted = quoted;
        }

        public boolean quoted() {
            return quoted;
        }
    }

    private static final Map<String, Setting> BY_NAME = Stream.of(values())
            .collect(Collectors.toUnmodifiableMap(s -> s.gucName, Function.identity()));

    private final String gucName;
    private final Kind kind;
    private final String description;

    Setting(String gucName, Kind kind, String description) {
        this.gucName = gucName;
        this.kind = kind;
        this.description = description;
    }

    /** The parameter name as written in {@code postgresql.conf}. */
    public String gucName() {
        return gucName;
    }

    public Kind kind() {
        return kind;
    }

    public String description() {
        return description;
    }

    /**
     * Whether only PolarDB knows this parameter. A plain PostgreSQL server refuses to start with the
     * undotted ones ({@code unrecognized configuration parameter}); a dotted one,
     * {@code polar_vfs.localfs_mode}, is a custom placeholder to it, accepted and ignored.
     */
    public boolean isPolarDbOnly() {
        return gucName.startsWith("polar_");
    }

    /** The typed setting for a parameter name; like PostgreSQL, ignores case. */
    public static Optional<Setting> forName(String name) {
        return Optional.ofNullable(BY_NAME.get(name.toLowerCase(Locale.ROOT)));
    }
}
