package dev.polarscale.replication.internal;

import dev.polarscale.core.Executors;
import dev.polarscale.core.HbaRule;
import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PostgresNode;
import dev.polarscale.replication.ClusterSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Keeps the primary's {@code pg_hba.conf} managed block in step with the cluster: a replication
 * rule for every host that runs a node, a rule for the control machine's address, nothing more.
 * The file is read and written through the primary's host executor and the server reloads it
 * with {@code pg_ctl reload}, so it works before PolarScale can connect (a cluster it adopts) and
 * on any host. Writes happen only when the block changes. A follower PolarScale did not make
 * (declared to {@code adopt}) gets the control machine's rule in its own block the same way.
 */
final class PrimaryHba {
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryHba.class);

    private PrimaryHba() {
    }

    /**
     * The address this machine's connections to {@code host} come from, unless that is loopback
     * (initdb's own rules cover loopback); the spec's {@code controlAddress} when given.
     */
    static Optional<String> controlAddress(ClusterSpec spec, String host) {
        if (spec.controlAddress().isPresent()) {
            return spec.controlAddress();
        }
        if (Executors.isLoopback(host)) {
            return Optional.empty();
        }
        try (DatagramSocket s = new DatagramSocket()) {
            s.connect(InetAddress.getByName(host), 5432); // UDP: sends nothing, picks the route
            InetAddress local = s.getLocalAddress();
            return local.isLoopbackAddress() || local.isAnyLocalAddress() ? Optional.empty()
                    : Optional.of(local.getHostAddress());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The hosts that need a replication rule now: the primary's and every registered follower's. */
    static Set<String> nodeHosts(ScalerContext ctx, Collection<String> more) {
        Set<String> hosts = new TreeSet<>(more);
        hosts.add(ctx.spec().primaryHost());
        for (Registry.Entry e : ctx.registry().list()) {
            if (e.role() != NodeRole.PRIMARY) {
                hosts.add(e.host());
            }
        }
        return hosts;
    }

    /** The block the primary should have for these node hosts. */
    static List<HbaRule> rules(ScalerContext ctx, Collection<String> nodeHosts) {
        ClusterSpec spec = ctx.spec();
        return Configs.hbaRules(spec, nodeHosts, controlAddress(spec, spec.primaryHost()));
    }

    /**
     * Writes the block for {@code nodeHosts} into the primary's {@code pg_hba.conf} if it differs,
     * and reloads. A file without a block gets it first, or last when {@code firstWhenNew} is
     * false (an adopted cluster's own lines keep deciding).
     *
     * @return whether the file changed
     */
    static boolean apply(ScalerContext ctx, Collection<String> nodeHosts, boolean firstWhenNew) {
        return write(ctx, current -> HbaRule.mergeInto(current, rules(ctx, nodeHosts), firstWhenNew));
    }

    /**
     * Adds the rules for {@code nodeHosts} to whatever the block holds (for a cluster being adopted,
     * before PolarScale can read its membership), the block last when the file has none.
     */
    static boolean add(ScalerContext ctx, Collection<String> nodeHosts) {
        return write(ctx, current -> withRules(current, rules(ctx, nodeHosts)));
    }

    /**
     * {@code current} with each of {@code rules} its managed block lacks appended to the block
     * (the block goes last when the file has none); every other line as it was.
     */
    static String withRules(String current, List<HbaRule> rules) {
        List<String> lines = new java.util.ArrayList<>(HbaRule.managedBlockLines(current));
        for (HbaRule r : rules) {
            if (!lines.contains(r.render())) {
                lines.add(r.render());
            }
        }
        String body = lines.isEmpty() ? "" : String.join("\n", lines) + "\n";
        return HbaRule.mergeRawInto(current, body, false);
    }

    /**
     * The rule admitting the control machine's superuser connections to a node on {@code host},
     * empty when this machine reaches that host over loopback (initdb's own rules cover it).
     */
    static Optional<HbaRule> controlRule(ClusterSpec spec, String host) {
        return controlAddress(spec, host).map(addr -> Configs.controlRule(spec, addr));
    }

    /**
     * Admits the control machine to a follower PolarScale did not make (declared to adopt): its
     * rule is added to the follower's own managed block, the block LAST when the file has none;
     * the follower reloads if it runs.
     *
     * @return whether the file changed
     */
    static boolean allowControlOn(ScalerContext ctx, PostgresNode follower, String host) {
        Optional<HbaRule> rule = controlRule(ctx.spec(), host);
        if (rule.isEmpty()) {
            return false;
        }
        return write(follower, follower.status() == dev.polarscale.core.NodeState.RUNNING,
                current -> withRules(current, List.of(rule.get())));
    }

    private static boolean write(ScalerContext ctx, java.util.function.UnaryOperator<String> change) {
        return write(ctx.primaryNode(), true, change);
    }

    private static boolean write(PostgresNode node, boolean reload, java.util.function.UnaryOperator<String> change) {
        String current = node.readFile("pg_hba.conf");
        String wanted = change.apply(current);
        if (wanted.equals(current)) {
            return false;
        }
        node.writeFile("pg_hba.conf", wanted);
        if (!reload) {
            LOG.info("{} - pg_hba.conf managed block rewritten (not running: read at its next start): {}",
                    node.name(), HbaRule.managedBlockLines(wanted));
            return true;
        }
        node.executor().run(node.serverCommand("pg_ctl", "reload", "-D", node.dataDirectory().toString())
                .withTimeout(java.time.Duration.ofSeconds(30)));
        try {
            Thread.sleep(100); // the postmaster rereads the file on SIGHUP, a moment after pg_ctl returns
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("{} - pg_hba.conf managed block rewritten and reloaded: {}", node.name(), HbaRule.managedBlockLines(wanted));
        return true;
    }
}
