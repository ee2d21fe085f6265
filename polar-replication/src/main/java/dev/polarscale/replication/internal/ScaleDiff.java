package dev.polarscale.replication.internal;

import dev.polarscale.core.NodeRole;
import dev.polarscale.core.PolarException;
import dev.polarscale.core.SlotName;
import dev.polarscale.replication.NamingPolicy;
import dev.polarscale.replication.NodeSpec;
import dev.polarscale.replication.ReplicationException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The difference between a cluster's membership and a scale target, as an ordered list of adds
 * and removals: the decision logic of a reconcile, with no I/O of its own (the caller passes the
 * membership, a port probe and, when asked, the unhealthy nodes).
 *
 * <p>A count target governs only the names its policy makes: other followers are neither
 * counted nor removed. It removes unhealthy nodes first, then the highest numbers; it adds the
 * lowest free numbers, each on the policy host with the fewest policy nodes, at the lowest port
 * of the range that no node of that host is registered with and nothing answers on. An explicit
 * list governs every follower: removals (in membership order) come before adds (in list order);
 * a listed node registered differently is an error, never replaced.
 */
final class ScaleDiff {
    private ScaleDiff() {
    }

    /** A registered node as the reconcile compares it. */
    record Member(String name, NodeRole role, String host, int port, String dataDirectory) {
        static Member of(Registry.Entry e) {
            return new Member(e.name(), e.role(), e.host(), e.port(), e.dataDirectory());
        }

        /** {@code host:port directory}. */
        String where() {
            return host + ":" + port + " " + dataDirectory;
        }

        @Override
        public String toString() {
            return name + " (" + role.name().toLowerCase(java.util.Locale.ROOT) + " " + where() + ")";
        }
    }

    /** One change of the membership. */
    sealed interface Change permits Add, Remove {
        String node();

        String where();
    }

    /** Adds a follower with this spec on {@code host} (the spec's, or the primary's). */
    record Add(NodeSpec spec, String host) implements Change {
        @Override
        public String node() {
            return spec.name();
        }

        @Override
        public String where() {
            return host + ":" + spec.port() + " " + spec.dataDirectory();
        }
    }

    /** Removes this registered node. */
    record Remove(Member member) implements Change {
        @Override
        public String node() {
            return member.name();
        }

        @Override
        public String where() {
            return member.where();
        }
    }

    /** Whether something answers a TCP connect on a port of a host. */
    @FunctionalInterface
    interface PortProbe {
        boolean inUse(String host, int port);
    }

    /**
     * The changes that make the policy's node count {@code n}.
     *
     * @param members   every registered node (the primary too: its port counts as used)
     * @param freed     {@code host:port} pairs held now by interrupted adds that recovery undoes first
     * @param unhealthy the names of unhealthy nodes, asked only when there is a choice of whom to remove
     */
    static List<Change> forCount(int n, NamingPolicy policy, List<Member> members, String primaryHost,
                                 Set<String> freed, PortProbe probe, Supplier<Set<String>> unhealthy) {
        List<Member> governed = members.stream().filter(m -> m.role() != NodeRole.PRIMARY)
                .filter(m -> policy.governs(m.name()))
                .sorted(Comparator.comparingInt(m -> policy.number(m.name()).getAsInt())).toList();
        List<Change> out = new ArrayList<>();
        if (governed.size() > n) {
            int k = governed.size() - n;
            Set<String> sick = k < governed.size() ? unhealthy.get() : Set.of();
            governed.stream().sorted(Comparator.<Member, Boolean>comparing(m -> !sick.contains(m.name()))
                            .thenComparing(m -> -policy.number(m.name()).getAsInt()))
                    .limit(k).forEach(m -> out.add(new Remove(m)));
            return out;
        }
        Set<SlotName> slots = new HashSet<>();  // a name is taken when its slot is (which names differing in '-'/'_' share)
        Set<String> ports = new HashSet<>();
        for (Member m : members) {
            slots.add(SlotName.forNode(m.name()));
            ports.add(m.host() + ":" + m.port());
        }
        List<String> hosts = policy.hosts().isEmpty() ? List.of(primaryHost) : policy.hosts();
        Map<String, Integer> perHost = new LinkedHashMap<>();
        hosts.forEach(h -> perHost.put(h, 0));
        governed.forEach(m -> perHost.computeIfPresent(m.host(), (h, c) -> c + 1));
        int number = 0;
        for (int i = governed.size(); i < n; i++) {
            String name;
            do {
                name = policy.name(++number);
            } while (slots.contains(SlotName.forNode(name)));
            String host = perHost.entrySet().stream().min(Map.Entry.comparingByValue()).orElseThrow().getKey();
            int port = freePort(policy, host, ports, freed, probe, name);
            NodeSpec spec = NodeSpec.builder().name(name).host(host).port(port)
                    .dataDirectory(policy.dataDirectory(name)).build();
            out.add(new Add(spec, host));
            slots.add(SlotName.forNode(name));
            ports.add(host + ":" + port);
            perHost.merge(host, 1, Integer::sum);
        }
        return out;
    }

    private static int freePort(NamingPolicy policy, String host, Set<String> used, Set<String> freed, PortProbe probe,
                                String name) {
        for (int p = policy.firstPort().value(); p <= policy.lastPort().value(); p++) {
            String key = host + ":" + p;
            if (!used.contains(key) && (freed.contains(key) || !probe.inUse(host, p))) {
                return p;
            }
        }
        throw new ReplicationException(PolarException.Reason.PORT_IN_USE, name, host, name + " - no free port in "
                + policy.firstPort() + ".." + policy.lastPort() + " on " + host + " (each is registered to a node "
                + "or answers a connect): widen NamingPolicy.Builder.ports", null);
    }

    /**
     * The changes that make the followers exactly {@code desired}.
     *
     * @throws ReplicationException {@code NODE_EXISTS}: a listed node is registered with another role,
     *                              host, port or directory
     */
    static List<Change> forNodes(List<NodeSpec> desired, List<Member> members, String primaryName, String primaryHost,
                                 NodeRole role) {
        Map<String, NodeSpec> wanted = new LinkedHashMap<>();
        for (NodeSpec d : desired) {
            if (d.name().equals(primaryName)) {
                throw new IllegalArgumentException("the primary '" + primaryName + "' cannot be listed as a follower");
            }
            wanted.put(d.name(), d);
        }
        Map<String, Member> followers = new HashMap<>();
        List<Change> out = new ArrayList<>();
        for (Member m : members) {
            if (m.role() == NodeRole.PRIMARY) {
                continue;
            }
            followers.put(m.name(), m);
            if (!wanted.containsKey(m.name())) {
                out.add(new Remove(m));
            }
        }
        for (NodeSpec d : wanted.values()) {
            String host = d.host().orElse(primaryHost);
            Member m = followers.get(d.name());
            if (m == null) {
                out.add(new Add(d, host));
            } else if (m.role() != role || !m.host().equals(host) || m.port() != d.port().value()
                    || !m.dataDirectory().equals(d.dataDirectory().toString())) {
                throw new ReplicationException(PolarException.Reason.NODE_EXISTS, d.name(), host, d.name()
                        + " - registered as " + m + ", but the target lists it as a "
                        + role.name().toLowerCase(java.util.Locale.ROOT) + " on " + host + ":" + d.port() + " "
                        + d.dataDirectory() + ": remove it first, or list it as it is", null);
            }
        }
        return out;
    }

    /** The membership after {@code c}, as the next change expects it. */
    static List<Member> after(List<Member> members, Change c, NodeRole role) {
        List<Member> out = new ArrayList<>(members);
        if (c instanceof Add a) {
            out.add(new Member(a.spec().name(), role, a.host(), a.spec().port().value(),
                    a.spec().dataDirectory().toString()));
        } else {
            out.removeIf(m -> m.name().equals(c.node()));
        }
        return out;
    }

    /** Whether two memberships hold the same nodes (order aside). */
    static boolean same(List<Member> a, List<Member> b) {
        return new HashSet<>(a).equals(new HashSet<>(b)) && a.size() == b.size();
    }
}
