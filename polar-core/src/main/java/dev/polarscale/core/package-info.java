/**
 * PolarScale's foundation, the public API of {@code polar-core}: commands as argument lists and the
 * executors that run them on this machine, over SSH or in a container ({@link dev.polarscale.core.Executors}),
 * one PostgreSQL server ({@link dev.polarscale.core.PostgresNode}, {@link dev.polarscale.core.NodeConfig},
 * {@link dev.polarscale.core.HbaRule}), where its binaries are ({@link dev.polarscale.core.PgBinaries}),
 * validated values ({@link dev.polarscale.core.Port}, {@link dev.polarscale.core.HostId},
 * {@link dev.polarscale.core.SlotName}, {@link dev.polarscale.core.Lsn}) and the exception root
 * {@link dev.polarscale.core.PolarException} with its stable {@link dev.polarscale.core.PolarException.Reason}.
 *
 * <pre>{@code
 * PostgresNode node = PostgresNode.builder().installation(PgBinaries.locate()).name("primary")
 *         .dataDirectory(Path.of("/srv/polar/primary")).port(5432).build();
 * node.initdb();
 * node.start();
 * }</pre>
 *
 * <p>Implementations live in {@code dev.polarscale.core.internal} and its sub-packages, which carry
 * no compatibility promise.
 */
package dev.polarscale.core;
