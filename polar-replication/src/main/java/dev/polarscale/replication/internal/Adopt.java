package dev.polarscale.replication.internal;

import dev.polarscale.core.NodeRole;
import dev.polarscale.core.NodeState;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.core.SlotName;
import dev.polarscale.replication.AdoptOptions;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.ReplicationException;
import dev.polarscale.replication.SlotInfo;
import org.postgresql.PGConnection;

import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.text.Normalizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Attaches a scaler to a running primary it did not deploy: check, allow control, connect, lock,
 * check declarations, allow control on each declared follower, replication role, registry,
 * report. The primary's {@code pg_hba.conf} gets PolarScale's managed block LAST, so that the
 * cluster's own lines keep deciding and the block only adds access nothing else grants (the
 * control machine's superuser connections, the replication role's); a declared follower's gets
 * the control machine's rule the same way (status and removal connect to it). Idempotent:
 * adopting again changes nothing; a node registered differently, or a host id another node
 * holds, is refused before any follower is touched.
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
        List<Step> steps = new ArrayList<>(List.of(
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
                CommonSteps.lock(ctx, spec.primaryName(), lock)));
        steps.add(Step.of("check declarations", host, List.of("SELECT ... FROM polarscale.nodes  -- "
                + spec.primaryName() + " and " + options.followers().stream().map(f -> f.node().name()).toList()
                + ": unregistered or registered alike; no polar_hostid another node holds"), this::checkDeclarations));
        options.followers().forEach(f -> steps.add(allowControlOn(f.node())));
        steps.addAll(List.of(
                Step.of("replication role", host, List.of("CREATE ROLE \"" + spec.replicationUser()
                        + "\" WITH REPLICATION LOGIN PASSWORD <scram>  -- only if it does not exist; an existing "
                        + "role is used if its password (pg_authid) is the spec's"), this::replicationRole),
                Step.of("registry", host, List.of("CREATE SCHEMA polarscale ...  -- if missing",
                        "INSERT INTO polarscale.nodes ...  -- " + spec.primaryName() + " and " + options.followers()
                                .stream().map(f -> f.node().name()).toList() + ", unless registered alike"),
                        this::register),
                Step.of("report", host, List.of("SELECT ... FROM pg_replication_slots, pg_stat_replication  "
                        + "-- what belongs to no registered node"), this::report)));
        return new Operation(Operation.Kind.ADOPT, spec.primaryName(), steps, null, null, false,
                () -> Duration.ZERO, lock);
    }

    /**
     * A declared follower admits the control machine's superuser (for status and removal): its
     * own {@code pg_hba.conf} gets the rule in a managed block LAST; nothing when this machine
     * reaches its host over loopback. Its data directory must hold a cluster.
     */
    private Step allowControlOn(NodeSpec n) {
        String host = ctx.hostOf(n);
        ClusterSpec spec = ctx.spec();
        List<String> actions = PrimaryHba.controlRule(spec, host)
                .map(r -> List.of("test -f " + n.dataDirectory().resolve("pg_hba.conf") + "  -- a cluster is there",
                        "pg_hba.conf managed block of " + n.name() + ", LAST, gaining: [" + r.render() + "]",
                        "pg_ctl reload  -- only if it changed and " + n.name() + " runs"))
                .orElse(List.of("test -f " + n.dataDirectory().resolve("pg_hba.conf") + "  -- a cluster is there",
                        "nothing to add: this machine reaches " + host + " over loopback"));
        return Step.of("allow control on " + n.name(), host, actions, () -> {
            PostgresNode follower = ctx.follower(n);
            if (!follower.fileExists("pg_hba.conf")) {
                throw new ReplicationException(PolarException.Reason.NODE_NOT_FOUND, n.name(), host, n.name()
                        + " - declared with data directory " + n.dataDirectory() + " on " + host + ", which holds "
                        + "no pg_hba.conf: no node is there (check the declaration)", null);
            }
            PrimaryHba.allowControlOn(ctx, follower, host);
        });
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
                "SELECT rolreplication, rolcanlogin, rolpassword FROM pg_authid WHERE rolname = ?")) {
            ps.setString(1, spec.replicationUser());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    if (!rs.getBoolean(1) || !rs.getBoolean(2)) {
                        throw new ReplicationException(PolarException.Reason.AUTH_FAILED, spec.primaryName(),
                                spec.primaryName() + " - role " + spec.replicationUser() + " exists but has "
                                        + "no REPLICATION or LOGIN: name another with ClusterSpec.Builder"
                                        + ".replicationUser");
                    }
                    // this spec's password, given or generated (an adopt run again by the same spec), is used as
                    // it is; another one would make every follower fail to authenticate later
                    if (passwordMatches(rs.getString(3), spec.replicationUser(), spec.replicationPassword())) {
                        return;
                    }
                    throw new ReplicationException(PolarException.Reason.AUTH_FAILED, spec.primaryName(),
                            spec.primaryName() + " - role " + spec.replicationUser() + " exists and "
                                    + (spec.replicationPasswordGiven() ? "the password ClusterSpec.Builder"
                                    + ".replicationPassword gives is not its password"
                                    : "its password is not known to this spec: give it (ClusterSpec.Builder"
                                    + ".replicationPassword)") + ", or name a role that does not exist yet for "
                                    + "PolarScale to create");
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

    /** The primary and the declared followers as the membership will hold them. */
    private List<Registry.Entry> entries() {
        ClusterSpec spec = ctx.spec();
        List<Registry.Entry> out = new ArrayList<>();
        out.add(new Registry.Entry(spec.primaryName(), NodeRole.PRIMARY, spec.primaryHost(),
                spec.primaryPort().value(), spec.primaryDataDirectory().toString(), primaryHostId,
                ctx.primaryNode().osUser()));
        for (AdoptOptions.Follower f : options.followers()) {
            NodeSpec n = f.node();
            String host = ctx.hostOf(n);
            OptionalInt hid = n.hostId().map(h -> OptionalInt.of(h.value())).orElse(OptionalInt.empty());
            out.add(new Registry.Entry(n.name(), f.role(), host, n.port().value(), n.dataDirectory().toString(), hid,
                    Optional.of(ctx.facts(host).runsAs())));
        }
        return out;
    }

    /**
     * Under the lock, before any follower is touched: no declaration clashes with the membership
     * (a node of that name registered differently, a host id another node holds or the primary's).
     */
    private void checkDeclarations() {
        List<Registry.Entry> registeredNow = ctx.registry().schemaExists() ? ctx.registry().list() : List.of();
        for (Registry.Entry e : entries()) {
            if (e.role() != NodeRole.PRIMARY && e.hostId().isPresent() && primaryHostId.isPresent()
                    && e.hostId().getAsInt() == primaryHostId.getAsInt()) {
                throw new ReplicationException(PolarException.Reason.HOST_ID_TAKEN, e.name(), e.host(), e.name()
                        + " - polar_hostid " + e.hostId().getAsInt() + " is the primary's", null);
            }
            for (Registry.Entry r : registeredNow) {
                if (r.name().equals(e.name())) {
                    requireAlike(r, e);
                } else if (e.hostId().isPresent() && r.hostId().equals(e.hostId())) {
                    throw new ReplicationException(PolarException.Reason.HOST_ID_TAKEN, e.name(), e.host(), e.name()
                            + " - polar_hostid " + e.hostId().getAsInt() + " is registered node '" + r.name() + "''s",
                            null);
                }
            }
        }
    }

    private void register() {
        Registry registry = ctx.registry();
        registry.ensureSchema();
        for (Registry.Entry e : entries()) {
            Optional<Registry.Entry> existing = registry.get(e.name());
            if (existing.isEmpty()) {
                registry.add(e);
            } else {
                requireAlike(existing.get(), e);
            }
            registered.add(e.name());
        }
    }

    private static void requireAlike(Registry.Entry existing, Registry.Entry e) {
        if (!existing.host().equals(e.host()) || existing.port() != e.port()
                || !existing.dataDirectory().equals(e.dataDirectory()) || existing.role() != e.role()
                || (e.hostId().isPresent() && !existing.hostId().equals(e.hostId()))) {
            throw new ReplicationException(PolarException.Reason.NODE_EXISTS, e.name(), e.host(), e.name()
                    + " - already registered differently (" + existing.role() + " on " + existing.host()
                    + ":" + existing.port() + " " + existing.dataDirectory()
                    + existing.hostId().stream().mapToObj(h -> " polar_hostid " + h).findFirst().orElse("")
                    + "): remove it first", null);
        }
    }

    private void report() {
        Set<String> slots = new LinkedHashSet<>();
        Set<String> names = new LinkedHashSet<>();
        for (Registry.Entry e : ctx.registry().list()) {
            names.add(e.name());
            slots.add(SlotName.forNode(e.name()).value());
        }
        for (SlotInfo s : ctx.slots().list()) {
            if (!slots.contains(s.name().value())) {
                unknownSlots.add(s);
            }
        }
        try (Connection c = ctx.primary().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT application_name, coalesce(host(client_addr), 'local'), state "
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

    /**
     * Whether {@code password} is the one {@code pg_authid.rolpassword} holds for {@code role}: a
     * {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>} verifier (RFC 5802: the
     * StoredKey is SHA-256 of HMAC(PBKDF2(password, salt, iterations), "Client Key")) or an
     * {@code md5} hash of password and role name. Computed here: nothing is sent anywhere.
     */
    static boolean passwordMatches(String stored, String role, String password) {
        if (stored == null) {
            return false;
        }
        try {
            if (stored.startsWith("SCRAM-SHA-256$")) {
                String[] f = stored.substring("SCRAM-SHA-256$".length()).split("[$:]");
                if (f.length != 4) {
                    return false;
                }
                byte[] salt = Base64.getDecoder().decode(f[1]);
                byte[] salted = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(new PBEKeySpec(
                        Normalizer.normalize(password, Normalizer.Form.NFKC).toCharArray(), salt,
                        Integer.parseInt(f[0]), 256)).getEncoded();
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(salted, "HmacSHA256"));
                byte[] clientKey = mac.doFinal("Client Key".getBytes(StandardCharsets.US_ASCII));
                return MessageDigest.isEqual(MessageDigest.getInstance("SHA-256").digest(clientKey),
                        Base64.getDecoder().decode(f[2]));
            }
            if (stored.startsWith("md5")) {
                byte[] d = MessageDigest.getInstance("MD5").digest((password + role).getBytes(StandardCharsets.UTF_8));
                return MessageDigest.isEqual(("md5" + HexFormat.of().formatHex(d)).getBytes(StandardCharsets.US_ASCII),
                        stored.getBytes(StandardCharsets.US_ASCII));
            }
            return false;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false; // an unreadable verifier matches nothing
        }
    }
}
