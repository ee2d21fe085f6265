package dev.polarscale.replication;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The followers a cluster should have, for {@link ClusterScaler#planScale} and
 * {@link ClusterScaler#scaleTo}: either a number of nodes made by a {@link NamingPolicy}, or an
 * explicit list of node specs. Followers are streaming standbys on plain PostgreSQL and
 * shared-storage replicas when the {@link ClusterSpec} has shared storage.
 *
 * <pre>{@code
 * ScaleTarget three = ScaleTarget.count(3, policy);          // standby-1..3; other names untouched
 * ScaleTarget exactly = ScaleTarget.nodes(List.of(a, b));     // these two, and no other follower
 * }</pre>
 *
 * <p>What each kind governs, that is may remove:
 * <ul>
 *   <li>{@link #count}: only the nodes whose names the policy makes ({@code <prefix><number>}); a
 *       node named otherwise is neither counted nor removed. Removed first: unhealthy nodes, then
 *       the highest numbers. Removals delete the node's data directory (the policy made it, and
 *       a later scale-out may need the same name and directory again).</li>
 *   <li>{@link #nodes}: every follower; one that is not in the list is removed (its data
 *       directory is kept unless {@link #withRemoveOptions} says otherwise). A listed node
 *       registered with another host, port or directory is an error, never replaced silently.
 *       Removals run before adds (they free ports, slots and walsenders).</li>
 * </ul>
 */
public final class ScaleTarget {
    /** The most followers a target may ask for (PolarDB host ids are 1..512, the primary holds 1). */
    public static final int MAX_FOLLOWERS = 511;

    private final int count;
    private final NamingPolicy policy;
    private final List<NodeSpec> nodes;
    private final RemoveOptions removeOptions;

    private ScaleTarget(int count, NamingPolicy policy, List<NodeSpec> nodes, RemoveOptions removeOptions) {
        this.count = count;
        this.policy = policy;
        this.nodes = nodes;
        this.removeOptions = removeOptions;
    }

    /** {@code followers} nodes of {@code policy} (0..{@value #MAX_FOLLOWERS}). */
    public static ScaleTarget count(int followers, NamingPolicy policy) {
        if (followers < 0 || followers > MAX_FOLLOWERS) {
            throw new IllegalArgumentException("follower count must be 0.." + MAX_FOLLOWERS + ": " + followers);
        }
        return new ScaleTarget(followers, Objects.requireNonNull(policy, "policy"), null,
                RemoveOptions.defaults().withDeleteData(true));
    }

    /**
     * Exactly these followers. Names, slots, and (host, port) and (host, directory) pairs must be
     * distinct; a node without a host is on the primary's host.
     */
    public static ScaleTarget nodes(List<NodeSpec> followers) {
        List<NodeSpec> l = List.copyOf(Objects.requireNonNull(followers, "followers"));
        if (l.size() > MAX_FOLLOWERS) {
            throw new IllegalArgumentException("at most " + MAX_FOLLOWERS + " followers: " + l.size());
        }
        Set<String> names = new HashSet<>();
        Set<String> slots = new HashSet<>();
        Set<String> ports = new HashSet<>();
        Set<String> dirs = new HashSet<>();
        for (NodeSpec n : l) {
            String host = n.host().orElse("<primary host>");
            if (!names.add(n.name()) || !slots.add(n.slotName().value())) {
                throw new IllegalArgumentException("node " + n.name() + " is listed twice (or its slot "
                        + n.slotName() + " is another listed node's)");
            }
            if (!ports.add(host + ":" + n.port())) {
                throw new IllegalArgumentException(n.name() + " - port " + n.port() + " on " + host
                        + " is another listed node's");
            }
            if (!dirs.add(host + ":" + n.dataDirectory())) {
                throw new IllegalArgumentException(n.name() + " - data directory " + n.dataDirectory() + " on "
                        + host + " is another listed node's");
            }
        }
        return new ScaleTarget(-1, null, l, RemoveOptions.defaults());
    }

    /** This target, removing nodes with {@code options} (e.g. to keep or delete their data directories). */
    public ScaleTarget withRemoveOptions(RemoveOptions options) {
        return new ScaleTarget(count, policy, nodes, Objects.requireNonNull(options, "options"));
    }

    /** The number of policy nodes, for a {@link #count} target. */
    public OptionalInt count() {
        return policy == null ? OptionalInt.empty() : OptionalInt.of(count);
    }

    /** The policy, for a {@link #count} target. */
    public Optional<NamingPolicy> policy() {
        return Optional.ofNullable(policy);
    }

    /** The followers, for a {@link #nodes} target. */
    public Optional<List<NodeSpec>> nodes() {
        return Optional.ofNullable(nodes);
    }

    /** How nodes are removed: for {@link #count} with {@code deleteData}, for {@link #nodes} the defaults. */
    public RemoveOptions removeOptions() {
        return removeOptions;
    }

    @Override
    public String toString() {
        return policy != null ? count + " x " + policy.prefix() + "<n>"
                : "nodes " + nodes.stream().map(NodeSpec::name).toList();
    }
}
