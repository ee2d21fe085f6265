/**
 * Micrometer metrics of a {@link dev.polarscale.replication.ClusterScaler}:
 * {@link dev.polarscale.replication.micrometer.PolarScaleMetrics}. {@code micrometer-core} is an
 * optional dependency of {@code polar-replication}: add it to your project to use this package; no
 * other package of the library refers to it, so without it everything else works.
 */
package dev.polarscale.replication.micrometer;
