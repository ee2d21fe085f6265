package dev.polarscale.examples.cli;

import dev.polarscale.replication.ClusterSpec;
import dev.polarscale.replication.NodeSpec;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options that describe a node to add ({@code add standby}, {@code add replica}, their plans). */
final class NodeOptions {
    @Option(names = "--name", required = true, paramLabel = "NAME", order = 1,
            description = "The node's name, e.g. standby-1 ([a-z][a-z0-9_-]*); its slot is the name with - as _.")
    String name;

    @Option(names = "--host", paramLabel = "HOST", order = 2,
            description = "A host of the cluster file (default: the primary's).")
    String host;

    @Option(names = "--port", required = true, paramLabel = "PORT", order = 3, description = "The node's port.")
    int port;

    @Option(names = "--data-dir", paramLabel = "DIR", order = 4,
            description = "Its data directory on its host, absolute (default: beside the primary's, named after "
                    + "the node).")
    Path dataDirectory;

    @Option(names = "--host-id", paramLabel = "N", order = 5,
            description = "PolarDB replicas: its polar_hostid (default: the lowest free one).")
    Integer hostId;

    @Option(names = "--keep-on-failure", order = 6,
            description = "Keep what a failed add made (to debug it) instead of undoing it.")
    boolean keepOnFailure;

    /** The node, its data directory defaulting to {@code <primary's parent>/<name>}. */
    NodeSpec toSpec(ClusterSpec cluster) {
        NodeSpec.Builder b = NodeSpec.builder().name(name).port(port).keepOnFailure(keepOnFailure)
                .dataDirectory(dataDirectory != null ? dataDirectory
                        : cluster.primaryDataDirectory().resolveSibling(name));
        if (host != null) {
            b.host(host);
        }
        if (hostId != null) {
            b.hostId(hostId);
        }
        return b.build();
    }

    /** {@code 127.0.0.1:5433}, for summaries. */
    String where(ClusterSpec cluster) {
        return (host != null ? host : cluster.primaryHost()) + ":" + port;
    }
}
