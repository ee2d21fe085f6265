package dev.polarscale.replication.internal;

import dev.polarscale.core.Command;
import dev.polarscale.core.HbaRule;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.NodeState;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.PolarStorage;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.DeployOptions;
import dev.polarscale.replication.ReplicationException;
import dev.polarscale.storage.PfsSharedStorage;
import dev.polarscale.storage.PolarInitdb;
import dev.polarscale.storage.SharedStorage;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Deploys the primary: check, (PolarDB: prepare storage; on PFS: format storage if asked, prepare
 * storage, check storage, shared directory), initdb, (PolarDB: polar-initdb), configure, start,
 * replication role, registry, verify. Not journaled: until the primary runs there is no
 * place for a journal; a failed deploy is undone in-process, and a crashed one leaves a data
 * directory that the next deploy refuses with {@link PolarException.Reason#DATA_DIRECTORY_EXISTS}.
 */
public final class DeployPrimary {
    private static final Logger LOG = LoggerFactory.getLogger(DeployPrimary.class);

    private DeployPrimary() {
    }

    public static Operation operation(ScalerContext ctx, DeployOptions options) {
        ClusterSpec spec = ctx.spec();
        PostgresNode primary = ctx.primaryNode();
        String host = spec.primaryHost();
        HostFacts facts = ctx.facts(host);
        Optional<SharedStorage> storage = spec.sharedStorage();
        Optional<PfsSharedStorage> pfs = storage.filter(PfsSharedStorage.class::isInstance)
                .map(PfsSharedStorage.class::cast);
        if (options.formatEmptyDevice() && pfs.isEmpty()) {
            throw new IllegalArgumentException("DeployOptions.formatEmptyDevice needs PFS shared storage "
                    + "(SharedStorage.pfs); this cluster has " + storage.map(Object::toString).orElse("none"));
        }
        String dir = primary.dataDirectory().toString();
        List<Step> steps = new ArrayList<>();
        PolarInitdb polarInitdb = storage.map(s -> PolarInitdb.using(facts.installation(), facts.runsAs())).orElse(null);

        List<String> checks = new ArrayList<>(List.of(primary.serverCommand("pg_ctl", "status", "-D", dir)
                + "  -- no cluster yet", "[ ! -e " + dir + " ] || [ -z \"$(ls -A " + dir + ")\" ]  -- absent or empty",
                "connect " + host + ":" + spec.primaryPort() + "  -- nothing listens"));
        storage.ifPresent(s -> checks.add("test -x " + facts.installation().tool("polar-initdb.sh")));
        pfs.ifPresent(s -> checks.add("test -f " + PolarInitdb.SCRIPT_PFS + "  -- polar-initdb.sh runs pfs from there"));
        steps.add(Step.of("check", host, checks, () -> {
            facts.ensureServerUser();
            if (primary.status() != NodeState.NO_DATA_DIRECTORY) {
                throw new ReplicationException(PolarException.Reason.DATA_DIRECTORY_EXISTS, primary.name(), host,
                        primary.name() + " - data directory " + dir + " already holds a cluster; attach to it "
                                + "instead of deploying", null);
            }
            CommonSteps.requireEmptyDirectory(primary, host);  // initdb's undo deletes what it was given
            FollowerSteps.requirePortFree(primary.name(), host, spec.primaryPort().value());
            if (storage.isPresent()) {
                facts.require(primary.name(), "a PolarDB cluster needs PolarDB binaries", "polar-initdb.sh");
                polarInitdb.requireTools(primary.executor(), storage.get(), "primary", primary.dataDirectory());
            }
        }));
        if (pfs.isPresent()) {
            steps.addAll(PfsSteps.deploy(pfs.get(), host, primary.executor(), options));
        } else {
            storage.ifPresent(s -> steps.add(Step.of("prepare storage", host, List.of(s
                    + ": checked and mounted, never formatted"), () -> s.prepare(primary.executor()))));
        }
        steps.add(spec.templateCache().map(c -> InitdbTemplate.step(primary, host, c, Registry.SCHEMA_SQL))
                .orElseGet(() -> Step.of("initdb", host, List.of(primary.serverCommand("initdb", "-D", dir, "-U",
                        primary.superuser(), "--pwfile=<0600 temp file>", "-E", "UTF8", "--locale=C",
                        "--auth-host=scram-sha-256", "--auth-local=peer", "--no-sync").toString()), primary::initdb)
                .undoneEvenIfHalfDone(primary::deleteDataDirectory)));
        storage.ifPresent(s -> steps.add(polarInitdb(primary, host, s, polarInitdb)));
        List<HbaRule> hba = PrimaryHba.rules(ctx, List.of(host));
        steps.add(Step.of("configure", host, List.of(Configs.planned("postgresql.conf", Configs.primary(spec)),
                "pg_hba.conf managed block: " + hba.stream().map(HbaRule::render).toList()),
                () -> {
                    primary.writeFile("postgresql.conf", Configs.primary(spec)
                            .mergeInto(primary.readFile("postgresql.conf")));
                    primary.writeFile("pg_hba.conf", HbaRule.mergeInto(primary.readFile("pg_hba.conf"), hba));
                }));
        steps.add(Step.of("start", host, List.of(primary.serverCommand("pg_ctl", "start", "-D", dir, "-l",
                        primary.startupLog().toString(), "-o", "-p " + spec.primaryPort() + " -k <data directory>",
                        "-w").toString(), CommonSteps.CLEAN_ENV_NOTE), primary::start)
                .undoneEvenIfHalfDone(() -> primary.stop(PostgresNode.StopMode.IMMEDIATE)));
        steps.add(Step.of("replication role", host, List.of("CREATE ROLE \"" + spec.replicationUser()
                + "\" WITH REPLICATION LOGIN  -- unless it exists", "ALTER ROLE \"" + spec.replicationUser()
                + "\" PASSWORD 'SCRAM-SHA-256$<verifier computed here>'"), () -> createReplicationRole(spec, primary)));
        steps.add(Step.of("registry", host, List.of("CREATE SCHEMA polarscale; CREATE TABLE polarscale.nodes, "
                + "polarscale.canary, polarscale.operations, polarscale.events", "INSERT INTO polarscale.nodes ...  -- " + primary.name()
                + " primary"), () -> {
                    ctx.registry().ensureSchema();
                    ctx.registry().add(new Registry.Entry(primary.name(), NodeRole.PRIMARY, host,
                            spec.primaryPort().value(), dir, storage.isPresent()
                            ? OptionalInt.of(Configs.PRIMARY_HOST_ID) : OptionalInt.empty(), primary.osUser()));
                }));
        steps.add(Step.of("verify", host, List.of("SELECT version()" + (storage.isPresent()
                ? "  -- must name PolarDB" : "")), () -> {
                    String version = primary.awaitReady(spec.verifyTimeout());
                    if (storage.isPresent() && !version.contains("PolarDB")) {
                        throw new ReplicationException(PolarException.Reason.BINARIES_MISSING, primary.name(), host,
                                primary.name() + " - expected a PolarDB server, got: " + version, null);
                    }
                }));
        return new Operation(Operation.Kind.DEPLOY_PRIMARY, primary.name(), steps, null, null, false,
                () -> Duration.ZERO, new Operation.LockSlot());
    }

    static void createReplicationRole(ClusterSpec spec, PostgresNode primary) {
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            // the role name is validated ([a-z][a-z0-9_]*) and quoted as an identifier
            String role = "\"" + spec.replicationUser() + "\"";
            s.execute("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + spec.replicationUser()
                    + "') THEN CREATE ROLE " + role + " WITH REPLICATION LOGIN; END IF; END$$");
            // the SCRAM verifier is computed here; the password itself never reaches the server
            c.unwrap(PGConnection.class).alterUserPassword(spec.replicationUser(),
                    spec.replicationPassword().toCharArray(), "scram-sha-256");
        } catch (SQLException e) {
            throw ReplicationException.of(primary.name(), "create replication role " + spec.replicationUser(), e);
        }
    }

    /**
     * polar-initdb.sh primary, undone (also when it failed half-way) by emptying the shared
     * directory, but only if the step found it empty right before the script ran: then everything
     * in it is the script's. In PFS mode the script runs as root; its fix-up gives the local
     * directory back to the server user with mode 0700 and checks that ({@link PolarInitdb}).
     */
    private static Step polarInitdb(PostgresNode primary, String host, SharedStorage s, PolarInitdb polarInitdb) {
        boolean[] foundEmpty = {false};
        List<String> actions = new ArrayList<>(List.of(polarInitdb.command(primary.dataDirectory(), s, "primary")
                .toString()));
        if (s instanceof PfsSharedStorage) {
            actions.add("[root] chown -R -h --from=root " + primary.osUser().orElse("<server user>") + ": "
                    + primary.dataDirectory() + "  -- then stat: the server user's, mode 700, no root-owned file");
        }
        actions.add("check: " + s.initdbDirectory() + "global/pg_control exists");
        return Step.of("polar-initdb", host, actions, () -> {
            foundEmpty[0] = s.exists(primary.executor()) && s.list(primary.executor()).isEmpty();
            polarInitdb.initPrimary(primary.executor(), primary.dataDirectory(), s);
        }).undoneEvenIfHalfDone(() -> {
            if (foundEmpty[0]) {
                emptySharedStorage(primary, s);
            }
        });
    }

    /** Undo of the primary's polar-initdb.sh: the shared directory was empty before it ran. */
    private static void emptySharedStorage(PostgresNode primary, SharedStorage storage) {
        if (storage instanceof PfsSharedStorage pfs) {
            pfs.deleteContents(primary.executor());
        } else if (storage.configuration() instanceof PolarStorage.LocalFs local) {
            Command wipe = Command.of("find", local.directory().toString(), "-mindepth", "1", "-delete")
                    .withTimeout(Duration.ofMinutes(5));
            primary.executor().run(primary.osUser().map(wipe::asUser).orElse(wipe));
        } else {
            LOG.warn("{} - deploy failed after polar-initdb.sh: {} keeps what it wrote; empty it before deploying "
                    + "again", primary.name(), storage.initdbDirectory());
        }
    }
}
