package dev.polarscale.replication.internal;

import dev.polarscale.core.NodeRole;
import dev.polarscale.core.NodeState;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.replication.AdoptOptions;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.ReplicationException;
import dev.polarscale.replication.SlotInfo;
import org.postgresql.PGConnection;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Attaches a scaler to a running primary it did not deploy: check, allow control, connect, lock,
 * replication role, registry, report. The primary's {@code pg_hba.conf} gets PolarScale's managed
 * block LAST, so that the cluster's own lines keep deciding and the block only adds access nothing
 * else grants (the control machine's superuser connections, the replication role's). Idempotent:
 * adopting again changes nothing; a node registered differently is refused.
 */
public final class Adopt {
    private final ScalerContext ctx;
    private final AdoptOptions options;
    private final Operation.LockSlot lock = new Operation.LockSlot();
    private final List<String> registered = new ArrayList<>();
    private final List<SlotInfo> unknownSlots = new ArrayList<>();
    private final List<String> unknownStreams = new ArrayList<>();
    private volatile OptionalInt primaryHostId = OptionalInt.empty();

    private Adopt(ScalerContext ctx, AdoptOptions options) {
        this.ctx = ctx;
        this.options = options;
    }

    public static Adopt of(ScalerContext ctx, AdoptOptions options) {
        ClusterSpec spec = ctx.spec();
        if (!spec.superuserPasswordGiven()) {
            throw new IllegalStateException("adopt needs the password of the running cluster's superuser '"
                    + spec.superuser() + "': ClusterSpec.Builder.superuserPassword");
        }
        for (AdoptOptions.Follower f : options.followers()) {
            ctx.hostOf(f.node()); // a host the spec knows
            if (f.node().name().equals(spec.primaryName())) {
                throw new IllegalArgumentException("follower '" + f.node().name() + "' has the primary's name");
            }
            if (f.role() == NodeRole.REPLICA && spec.sharedStorage().isEmpty()) {
                throw new IllegalArgumentException(f.node().name() + " - a REPLICA needs a PolarDB cluster "
                        + "(ClusterSpec.Builder.sharedStorage)");
            }
        }
        return new Adopt(ctx, options);
    }

    public List<String> registered() {
        return List.copyOf(registered);
    }

    public List<SlotInfo> unknownSlots() {
        return List.copyOf(unknownSlots);
    }

    public List<String> unknownStreams() {
        return List.copyOf(unknownStreams);
    }

    public Operation operation() {
        ClusterSpec spec = ctx.spec();
        PostgresNode primary = ctx.primaryNode();
        String host = spec.primaryHost();
        Set<String> hosts = new LinkedHashSet<>(List.of(host));
        options.followers().forEach(f -> hosts.add(ctx.hostOf(f.node())));
        List<Step> steps = List.of(
                Step.of("check", host, List.of(primary.serverCommand("pg_ctl", "status", "-D",
                        primary.dataDirectory().toString()) + "  -- a server runs there"), () -> {
                            if (primary.status() != NodeState.RUNNING) {
                                throw new ReplicationException(PolarException.Reason.SERVER_UNREACHABLE,
                                        primary.name(), host, primary.name() + " - no server runs on "
                                        + primary.dataDirectory() + " on " + host + ": adopt attaches to a running "
                                        + "primary (deployPrimary makes a new one)", null);
                            }
                        }),
                Step.of("allow control", host, List.of("pg_hba.conf managed block, LAST (the cluster's own lines "
                        + "keep deciding), gaining: " + PrimaryHba.rules(ctx, hosts).stream()
                        .map(dev.polarscale.core.HbaRule::render).toList(), "pg_ctl reload  -- only if it changed"),
                        () -> PrimaryHba.add(ctx, hosts)),
                Step.of("connect", host, List.of("SELECT pg_is_in_recovery(), version(), "
                        + "current_setting('polar_hostid', true)  -- a writable primary" + (spec.sharedStorage()
                        .isPresent() ? ", PolarDB" : "")), this::connect),
                CommonSteps.lock(ctx, spec.primaryName(), lock),
                Step.of("replication role", host, List.of("CREATE ROLE \"" + spec.replicationUser()
                        + "\" WITH REPLICATION LOGIN PASSWORD <scram>  -- only if it does not exist; an existing "
                        + "role is used as it is"), this::replicationRole),
                Step.of("registry", host, List.of("CREATE SCHEMA polarscale ...  -- if missing",
                        "INSERT INTO polarscale.nodes ...  -- " + spec.primaryName() + " and " + options.followers()
                                .stream().map(f -> f.node().name()).toList() + ", unless registered alike"),
                        this::register),
                Step.of("report", host, List.of("SELECT ... FROM pg_replication_slots, pg_stat_replication  "
                        + "-- what belongs to no registered node"), this::report));
        return new Operation(Operation.Kind.ADOPT, spec.primaryName(), steps, null, null, false,
                () -> Duration.ZERO, lock);
    }

    private void connect() {
        ClusterSpec spec = ctx.spec();
        try (Connection c = ctx.primary().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery(), version(), "
                     + "current_setting('polar_hostid', true)")) {
            rs.next();
            if (rs.getBoolean(1)) {
                throw new ReplicationException(PolarException.Reason.NOT_A_PRIMARY, spec.primaryName(),
                        spec.primaryHost(), spec.primaryName() + " - " + spec.primaryHost() + ":" + spec.primaryPort()
                        + " is in recovery: it is not a primary", null);
            }
            String version = rs.getString(2);
            if (spec.sharedStorage().isPresent() != version.contains("PolarDB")) {
                throw new ReplicationException(PolarException.Reason.BINARIES_MISSING, spec.primaryName(),
                        spec.primaryHost(), spec.primaryName() + " - the spec " + (spec.sharedStorage().isPresent()
                        ? "has shared storage (PolarDB)" : "has no shared storage (plain PostgreSQL)")
                        + " but the server is " + version, null);
            }
            String hostId = rs.getString(3);
            if (hostId != null && !hostId.isBlank()) {
                primaryHostId = OptionalInt.of(Integer.parseInt(hostId.strip()));
            }
        } catch (SQLException e) {
            throw ReplicationException.of(spec.primaryName(), "connect to the primary " + spec.primaryHost() + ":"
                    + spec.primaryPort() + " as " + spec.superuser(), e);
        }
    }

    private void replicationRole() {
        ClusterSpec spec = ctx.spec();
        try (Connection c = ctx.primary().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT rolreplication, rolcanlogin FROM pg_roles WHERE rolname = ?")) {
            ps.setString(1, spec.replicationUser());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    if (!rs.getBoolean(1) || !rs.getBoolean(2)) {
                        throw new ReplicationException(PolarException.Reason.AUTH_FAILED, spec.primaryName(),
                                spec.primaryName() + " - role " + spec.replicationUser() + " exists but has "
                                        + "no REPLICATION or LOGIN: name another with ClusterSpec.Builder"
                                        + ".replicationUser");
                    }
                    if (!spec.replicationPasswordGiven()) {
                        throw new ReplicationException(PolarException.Reason.AUTH_FAILED, spec.primaryName(),
                                spec.primaryName() + " - role " + spec.replicationUser() + " exists: give its "
                                        + "password (ClusterSpec.Builder.replicationPassword), or name a role "
                                        + "that does not exist yet for PolarScale to create");
                    }
                    return;
                }
            }
            String role = "\"" + spec.replicationUser() + "\"";
            try (Statement s = c.createStatement()) {
                s.execute("CREATE ROLE " + role + " WITH REPLICATION LOGIN");
            }
            c.unwrap(PGConnection.class).alterUserPassword(spec.replicationUser(),
                    spec.replicationPassword().toCharArray(), "scram-sha-256");
        } catch (SQLException e) {
            throw ReplicationException.of(spec.primaryName(), "prepare replication role " + spec.replicationUser(), e);
        }
    }

    private void register() {
        ClusterSpec spec = ctx.spec();
        Registry registry = ctx.registry();
        registry.ensureSchema();
        PostgresNode primary = ctx.primaryNode();
        registerAlike(registry, new Registry.Entry(spec.primaryName(), NodeRole.PRIMARY, spec.primaryHost(),
                spec.primaryPort().value(), spec.primaryDataDirectory().toString(), primaryHostId, primary.osUser()));
        for (AdoptOptions.Follower f : options.followers()) {
            NodeSpec n = f.node();
            String host = ctx.hostOf(n);
            OptionalInt hid = n.hostId().map(h -> OptionalInt.of(h.value())).orElse(OptionalInt.empty());
            if (hid.isPresent() && primaryHostId.isPresent() && hid.getAsInt() == primaryHostId.getAsInt()) {
                throw new ReplicationException(PolarException.Reason.HOST_ID_TAKEN, n.name(), host, n.name()
                        + " - polar_hostid " + hid.getAsInt() + " is the primary's", null);
            }
            registerAlike(registry, new Registry.Entry(n.name(), f.role(), host, n.port().value(),
                    n.dataDirectory().toString(), hid, Optional.of(ctx.facts(host).runsAs())));
        }
    }

    private void registerAlike(Registry registry, Registry.Entry e) {
        Optional<Registry.Entry> existing = registry.get(e.name());
        if (existing.isEmpty()) {
            registry.add(e);
        } else if (!existing.get().host().equals(e.host()) || existing.get().port() != e.port()
                || !existing.get().dataDirectory().equals(e.dataDirectory()) || existing.get().role() != e.role()
                || (e.hostId().isPresent() && !existing.get().hostId().equals(e.hostId()))) {
            throw new ReplicationException(PolarException.Reason.NODE_EXISTS, e.name(), e.host(), e.name()
                    + " - already registered differently (" + existing.get().role() + " on " + existing.get().host()
                    + ":" + existing.get().port() + " " + existing.get().dataDirectory() + "): remove it first", null);
        }
        registered.add(e.name());
    }

    private void report() {
        Set<String> slots = new LinkedHashSet<>();
        Set<String> names = new LinkedHashSet<>();
        for (Registry.Entry e : ctx.registry().list()) {
            names.add(e.name());
            slots.add(e.name().replace('-', '_'));
        }
        for (SlotInfo s : ctx.slots().list()) {
            if (!slots.contains(s.name().value())) {
                unknownSlots.add(s);
            }
        }
        try (Connection c = ctx.primary().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT application_name, coalesce(client_addr::text, 'local'), state "
                     + "FROM pg_stat_replication ORDER BY application_name")) {
            while (rs.next()) {
                if (!names.contains(rs.getString(1))) {
                    unknownStreams.add(rs.getString(1) + "@" + rs.getString(2) + " " + rs.getString(3));
                }
            }
        } catch (SQLException e) {
            throw ReplicationException.of(ctx.spec().primaryName(), "read pg_stat_replication", e);
        }
    }

    static Path dir(NodeSpec n) {
        return n.dataDirectory();
    }
}
