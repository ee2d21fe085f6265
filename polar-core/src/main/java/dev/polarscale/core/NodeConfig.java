package dev.polarscale.core;

import dev.polarscale.core.internal.conf.ConfFiles;
import dev.polarscale.core.internal.conf.ConfigRules;
import dev.polarscale.core.internal.conf.GucSyntax;
import dev.polarscale.core.internal.conf.ManagedBlock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The settings PolarScale owns in one node's {@code postgresql.conf}: immutable, validated, and
 * written as a marked block at the end of the file the server's {@code initdb} generated (the
 * last occurrence of a setting wins), so writing again replaces the block instead of stacking
 * lines.
 *
 * <pre>{@code
 * PolarStorage storage = PolarStorage.localFs(Path.of("/home/polar/shared_data"));
 * NodeConfig primary = NodeConfig.primary(Port.of(5432), HostId.of(1), storage).build();
 * NodeConfig replica = NodeConfig.replica(Port.of(5433), HostId.of(2), storage,
 *                 ConnInfo.builder().host("127.0.0.1").port(5432).user("postgres")
 *                         .dbname("postgres").applicationName("replica1").build(),
 *                 SlotName.of("replica1"))
 *         .set("polar_enable_flashback_log", "on")        // any other parameter
 *         .build();
 * replica.writeInto(replicaDir.resolve("postgresql.conf"));
 * log.debug("{}", replica.renderMasked());                 // password shown as ******
 * }</pre>
 *
 * <h2>Values</h2>
 * Lines are written {@code name=value}, as in the PolarDB tutorial. Integers, booleans
 * ({@code on}/{@code off}) and enums are bare; strings and lists are single-quoted with
 * {@code '} doubled and {@code \} doubled, because PostgreSQL decodes backslash escapes inside
 * quoted values. A TAB character in a value is written as {@code \t}, which PostgreSQL reads back
 * as a TAB: so the tutorial's {@code log_line_prefix='%p\t%r\t%u\t%m\t'} is the Java string
 * {@code "%p\t%r\t%u\t%m\t"} (real TABs, {@link #DEFAULT_LOG_LINE_PREFIX}), and a value holding a
 * literal backslash followed by {@code t} is written {@code \\t} and stays two characters. Any
 * other control character, line breaks included, is rejected.
 *
 * <h2>Rules</h2>
 * Every builder call rejects a bad value at once with an {@link IllegalArgumentException};
 * {@link Builder#build()} throws an {@link IllegalStateException} when settings contradict each
 * other in a way that fails (or corrupts) a real PolarDB 15 server: a replica or standby without
 * {@code primary_slot_name} (an empty one crashes the primary's walsender), a replica without
 * shared storage mode, local-file-system storage with {@code polar_vfs.localfs_mode=off} (the
 * postmaster crashes with exit code 139).
 *
 * <h2>Differences from the tutorial</h2>
 * The presets listen on {@code localhost} unless {@link Builder#listenAddresses(String...)} says
 * otherwise; the tutorial's {@code listen_addresses='*'} exposes the node on every interface.
 */
public final class NodeConfig {
    private static final Logger LOG = LoggerFactory.getLogger(NodeConfig.class);

    /** The tutorial's {@code log_line_prefix}: pid, remote host, user, timestamp, each followed by a TAB. */
    public static final String DEFAULT_LOG_LINE_PREFIX = "%p\t%r\t%u\t%m\t";
    /** The libraries a PolarDB node preloads. */
    public static final List<String> POLAR_PRELOAD_LIBRARIES = List.of("$libdir/polar_vfs", "$libdir/polar_worker");
    /** {@code log_directory} of the presets, relative to the data directory. */
    public static final String DEFAULT_LOG_DIRECTORY = "pg_log";
    /** {@code max_connections} of the PolarDB presets (the tutorial's value). */
    public static final int DEFAULT_MAX_CONNECTIONS = 1000;
    /** {@code listen_addresses} of the presets. */
    public static final String DEFAULT_LISTEN_ADDRESS = "localhost";
    /** The file name {@link #mergeInto(String)} uses in error messages. */
    private static final String FILE = "postgresql.conf";

    private final NodeRole role;
    private final Map<Setting, String> typed;
    private final Map<String, Custom> custom;
    private final ConnInfo primaryConninfo;

    private record Custom(String name, String value) {
    }

    private NodeConfig(Builder b) {
        this.role = b.role;
        this.typed = Collections.unmodifiableMap(new EnumMap<>(b.typed));
        this.custom = Collections.unmodifiableMap(new LinkedHashMap<>(b.custom));
        this.primaryConninfo = b.primaryConninfo;
    }

    /** An empty builder; {@link Builder#role(NodeRole)} must be called. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A PolarDB primary: the tutorial's settings for {@code storage}, logging to {@code pg_log},
     * {@code max_connections=1000}, listening on {@code localhost}.
     */
    public static Builder primary(Port port, HostId hostId, PolarStorage storage) {
        return polarDefaults(NodeRole.PRIMARY, port, hostId, storage);
    }

    /**
     * A PolarDB replica on the primary's shared storage: the primary's settings with its own port
     * and host id, streaming from {@code primary} through {@code slot}.
     */
    public static Builder replica(Port port, HostId hostId, PolarStorage storage, ConnInfo primary, SlotName slot) {
        return polarDefaults(NodeRole.REPLICA, port, hostId, storage)
                .primaryConninfo(primary)
                .primarySlotName(slot);
    }

    /**
     * A streaming standby of plain PostgreSQL (no {@code polar_*} settings): its own copy of the
     * data, {@code hot_standby=on}, the presets' logging, listening on {@code localhost}.
     * {@code max_connections} is left alone: a standby needs at least the primary's value, which
     * its base backup already carries.
     */
    public static Builder standby(Port port, ConnInfo primary, SlotName slot) {
        return commonDefaults(NodeRole.STANDBY, port)
                .primaryConninfo(primary)
                .primarySlotName(slot)
                .hotStandby(true);
    }

    private static Builder polarDefaults(NodeRole role, Port port, HostId hostId, PolarStorage storage) {
        return commonDefaults(role, port)
                .polarHostId(hostId)
                .storage(storage)
                .sharedPreloadLibraries(POLAR_PRELOAD_LIBRARIES)
                .maxConnections(DEFAULT_MAX_CONNECTIONS);
    }

    private static Builder commonDefaults(NodeRole role, Port port) {
        return builder()
                .role(role)
                .port(port)
                .loggingCollector(true)
                .logLinePrefix(DEFAULT_LOG_LINE_PREFIX)
                .logDirectory(DEFAULT_LOG_DIRECTORY)
                .listenAddresses(DEFAULT_LISTEN_ADDRESS);
    }

    /** A builder holding these settings, to derive a changed copy. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.role = role;
        b.typed.putAll(typed);
        b.custom.putAll(custom);
        b.primaryConninfo = primaryConninfo;
        return b;
    }

    public NodeRole role() {
        return role;
    }

    /** A typed setting's value as PostgreSQL will read it (unquoted; booleans as {@code on}/{@code off}). */
    public Optional<String> value(Setting setting) {
        return Optional.ofNullable(typed.get(setting));
    }

    /** Any parameter's value as PostgreSQL will read it; the name ignores case, as in PostgreSQL. */
    public Optional<String> value(String name) {
        return Setting.forName(name).map(this::value)
                .orElseGet(() -> Optional.ofNullable(custom.get(name.toLowerCase(Locale.ROOT))).map(Custom::value));
    }

    /**
     * Every parameter and its value as PostgreSQL will read it, in rendering order. Holds the
     * password of {@code primary_conninfo}, if it has one.
     */
    public Map<String, String> values() {
        Map<String, String> all = new LinkedHashMap<>();
        typed.forEach((k, v) -> all.put(k.gucName(), v));
        custom.values().forEach(c -> all.put(c.name(), c.value()));
        return Collections.unmodifiableMap(all);
    }

    public Optional<Port> port() {
        return value(Setting.PORT).map(v -> Port.of(Integer.parseInt(v)));
    }

    public Optional<HostId> hostId() {
        return value(Setting.POLAR_HOSTID).map(v -> HostId.of(Integer.parseInt(v)));
    }

    public Optional<SlotName> primarySlotName() {
        return value(Setting.PRIMARY_SLOT_NAME).map(SlotName::of);
    }

    public Optional<ConnInfo> primaryConninfo() {
        return Optional.ofNullable(primaryConninfo);
    }

    /** The block's lines, {@code name=value} each ending in {@code \n}, password included. */
    public String render() {
        return render(false);
    }

    /** {@link #render()} with the password in {@code primary_conninfo} replaced by {@value Command#MASK}. */
    public String renderMasked() {
        return render(true);
    }

    private String render(boolean masked) {
        return ConfigRules.render(typed, custom.values().stream().map(c -> Map.entry(c.name(), c.value())).toList(),
                masked && primaryConninfo != null ? primaryConninfo.renderMasked() : null);
    }

    /**
     * {@code existingContent} of a {@code postgresql.conf} with this config as its managed block at
     * the end; an earlier managed block is removed, every other line is kept as it is.
     *
     * @throws PolarException if the file's block markers were edited by hand (a BEGIN without END)
     */
    public String mergeInto(String existingContent) {
        return ManagedBlock.merge(existingContent, render(), ManagedBlock.Position.BOTTOM, FILE);
    }

    /**
     * Rewrites an existing {@code postgresql.conf} with {@link #mergeInto(String)}, atomically,
     * keeping the file's mode, owner and group.
     *
     * @throws PolarException if the file cannot be read or written, or its markers are broken
     */
    public void writeInto(Path postgresqlConf) {
        LOG.debug("{} - writing managed block:\n{}", postgresqlConf, renderMasked());
        ConfFiles.rewrite(postgresqlConf, this::mergeInto);
    }

    /** The role and settings on one line, password masked. */
    @Override
    public String toString() {
        return "NodeConfig[" + role + "] " + renderMasked().strip().replace('\n', ' ');
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeConfig c && c.role == role && c.typed.equals(typed) && c.custom.equals(custom);
    }

    @Override
    public int hashCode() {
        return Objects.hash(role, typed, custom);
    }

    /**
     * Builds a {@link NodeConfig}. Each method validates its argument at once; calling one twice
     * keeps the last value. {@link #build()} checks the rules between settings.
     */
    public static final class Builder {

        private NodeRole role;
        private final Map<Setting, String> typed = new EnumMap<>(Setting.class);
        private final Map<String, Custom> custom = new LinkedHashMap<>();
        private ConnInfo primaryConninfo;

        private Builder() {
        }

        public Builder role(NodeRole role) {
            this.role = Objects.requireNonNull(role, "role");
            return this;
        }

        public Builder port(Port port) {
            Objects.requireNonNull(port, "port");
            return put(Setting.PORT, Integer.toString(port.value()));
        }

        public Builder port(int port) {
            return port(Port.of(port));
        }

        public Builder polarHostId(HostId hostId) {
            Objects.requireNonNull(hostId, "polar_hostid");
            return put(Setting.POLAR_HOSTID, Integer.toString(hostId.value()));
        }

        public Builder polarHostId(int hostId) {
            return polarHostId(HostId.of(hostId));
        }

        public Builder polarEnableSharedStorageMode(boolean on) {
            return put(Setting.POLAR_ENABLE_SHARED_STORAGE_MODE, ConfigRules.onOff(on));
        }

        public Builder polarDiskName(String diskName) {
            return put(Setting.POLAR_DISK_NAME, ConfigRules.nonEmpty(Setting.POLAR_DISK_NAME, diskName));
        }

        /**
         * {@code /<disk>/<dir>/} on PFS; {@code file-dio:///path/}, {@code file:///path/} or
         * {@code /path/} on a local file system.
         */
        public Builder polarDatadir(String datadir) {
            return put(Setting.POLAR_DATADIR, ConfigRules.datadir(datadir));
        }

        public Builder polarVfsLocalfsMode(boolean on) {
            return put(Setting.POLAR_VFS_LOCALFS_MODE, ConfigRules.onOff(on));
        }

        public Builder polarStorageClusterName(String clusterName) {
            return put(Setting.POLAR_STORAGE_CLUSTER_NAME,
                    ConfigRules.nonEmpty(Setting.POLAR_STORAGE_CLUSTER_NAME, clusterName));
        }

        /**
         * All storage settings at once: shared storage mode on, disk name, data directory,
         * local-file-system mode and (PFS only) cluster name.
         */
        public Builder storage(PolarStorage storage) {
            Objects.requireNonNull(storage, "storage");
            polarEnableSharedStorageMode(true);
            polarDiskName(storage.diskName());
            polarDatadir(storage.polarDatadir());
            polarVfsLocalfsMode(storage.localFsMode());
            typed.remove(Setting.POLAR_STORAGE_CLUSTER_NAME);
            storage.storageClusterName().ifPresent(this::polarStorageClusterName);
            return this;
        }

        public Builder sharedPreloadLibraries(List<String> libraries) {
            return put(Setting.SHARED_PRELOAD_LIBRARIES, ConfigRules.libraries(libraries));
        }

        public Builder sharedPreloadLibraries(String... libraries) {
            return sharedPreloadLibraries(List.of(libraries));
        }

        public Builder loggingCollector(boolean on) {
            return put(Setting.LOGGING_COLLECTOR, ConfigRules.onOff(on));
        }

        /** The prefix as PostgreSQL should use it: pass a real TAB ({@code "\t"} in Java), not backslash-t. */
        public Builder logLinePrefix(String prefix) {
            return put(Setting.LOG_LINE_PREFIX, GucSyntax.checkValue(Setting.LOG_LINE_PREFIX.gucName(), prefix));
        }

        public Builder logDirectory(String directory) {
            return put(Setting.LOG_DIRECTORY, ConfigRules.nonEmpty(Setting.LOG_DIRECTORY, directory));
        }

        /**
         * Host names or IP addresses, {@code "*"} for every interface; no argument means Unix
         * sockets only. The presets use {@code localhost}; a primary that remote replicas reach
         * must list an address they can connect to.
         */
        public Builder listenAddresses(List<String> addresses) {
            return put(Setting.LISTEN_ADDRESSES, ConfigRules.listenAddresses(addresses));
        }

        public Builder listenAddresses(String... addresses) {
            return listenAddresses(List.of(addresses));
        }

        public Builder maxConnections(int max) {
            return put(Setting.MAX_CONNECTIONS, ConfigRules.range(Setting.MAX_CONNECTIONS, max, 1));
        }

        /** The primary to stream from; must name a {@code host} or {@code hostaddr}. */
        public Builder primaryConninfo(ConnInfo conninfo) {
            primaryConninfo = ConfigRules.conninfo(conninfo);
            return put(Setting.PRIMARY_CONNINFO, conninfo.render());
        }

        public Builder primarySlotName(SlotName slot) {
            Objects.requireNonNull(slot, "primary_slot_name");
            return put(Setting.PRIMARY_SLOT_NAME, slot.value());
        }

        public Builder primarySlotName(String slot) {
            return primarySlotName(SlotName.of(slot));
        }

        public Builder maxWalSenders(int max) {
            return put(Setting.MAX_WAL_SENDERS, ConfigRules.range(Setting.MAX_WAL_SENDERS, max, 0));
        }

        public Builder maxReplicationSlots(int max) {
            return put(Setting.MAX_REPLICATION_SLOTS, ConfigRules.range(Setting.MAX_REPLICATION_SLOTS, max, 0));
        }

        public Builder walLevel(WalLevel level) {
            Objects.requireNonNull(level, "wal_level");
            return put(Setting.WAL_LEVEL, level.value());
        }

        public Builder hotStandby(boolean on) {
            return put(Setting.HOT_STANDBY, ConfigRules.onOff(on));
        }

        /**
         * Any parameter without a typed method, written as a quoted string (PostgreSQL converts it
         * to the parameter's type). A parameter with a typed method must use that method.
         */
        public Builder set(String name, String value) {
            GucSyntax.checkName(name);
            Setting.forName(name).ifPresent(s -> {
                throw new IllegalArgumentException("'" + name + "' has a typed method on NodeConfig.Builder; use it");
            });
            GucSyntax.checkValue(name, value);
            custom.put(name.toLowerCase(Locale.ROOT), new Custom(name, value));
            return this;
        }

        /** Removes a typed setting, so the file's own value (or PostgreSQL's default) applies. */
        public Builder unset(Setting setting) {
            Objects.requireNonNull(setting, "setting");
            typed.remove(setting);
            if (setting == Setting.PRIMARY_CONNINFO) {
                primaryConninfo = null;
            }
            return this;
        }

        /** Removes a parameter set with {@link #set(String, String)} or a typed method. */
        public Builder unset(String name) {
            GucSyntax.checkName(name);
            Optional<Setting> s = Setting.forName(name);
            if (s.isPresent()) {
                return unset(s.get());
            }
            custom.remove(name.toLowerCase(Locale.ROOT));
            return this;
        }

        /**
         * @throws IllegalStateException if no role is set or the settings contradict each other;
         *                               the message names the setting and its value
         */
        public NodeConfig build() {
            if (role == null) {
                throw new IllegalStateException(
                        "no role set: call role(...) or start from NodeConfig.primary/replica/standby(...)");
            }
            ConfigRules.check(role, typed, primaryConninfo);
            return new NodeConfig(this);
        }

        private Builder put(Setting s, String value) {
            typed.put(s, value);
            return this;
        }
    }
}
