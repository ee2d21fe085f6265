/**
 * The {@code polarscale} command line ({@link dev.polarscale.examples.cli.PolarScaleCli}): picocli
 * subcommands over {@code ClusterScaler}, a strictly checked cluster file (YAML, secrets by
 * reference only), live step progress and one exit code per group of failure reasons. Packaged as
 * {@code polar-examples/target/polarscale.jar}; an application, not an API.
 */
package dev.polarscale.examples.cli;
