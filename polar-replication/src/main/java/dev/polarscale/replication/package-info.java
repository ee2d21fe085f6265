/**
 * Adding and removing compute nodes, the public API of {@code polar-replication}: the
 * {@link dev.polarscale.replication.ClusterScaler} facade over a {@link dev.polarscale.replication.ClusterSpec}
 * (deploy the primary, add standbys or shared-storage replicas, remove nodes, status), physical
 * replication slots ({@link dev.polarscale.replication.ReplicationSlotManager}), reads spread
 * over the healthy followers ({@link dev.polarscale.replication.ReadRouting}), and the
 * {@link dev.polarscale.replication.LocalCluster} fixture that runs a real cluster on this machine.
 *
 * <pre>{@code
 * try (LocalCluster cluster = LocalCluster.builder().standbys(2).build().start()) {
 *     DataSource replica = cluster.dataSource("standby1");
 * }
 * }</pre>
 *
 * <p>Failures are {@link dev.polarscale.replication.ReplicationException}s (or other
 * {@link dev.polarscale.core.PolarException}s) with a stable reason. Implementations live in
 * {@code dev.polarscale.replication.internal}, which carries no compatibility promise.
 */
package dev.polarscale.replication;
