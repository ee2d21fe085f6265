/**
 * JUnit 5 support for {@link dev.polarscale.replication.LocalCluster}: {@link dev.polarscale.replication.junit.WithLocalCluster}
 * starts one cluster per test class or per run and injects it into test parameters. Needs
 * {@code junit-jupiter-api}, an optional dependency of {@code polar-replication} that a project using
 * this package already has.
 *
 * <pre>{@code
 * @WithLocalCluster(standbys = 2)
 * class ReadScalingIT {
 *     @Test
 *     void readsOnEveryStandby(LocalCluster cluster) { ... }
 * }
 * }</pre>
 */
package dev.polarscale.replication.junit;
