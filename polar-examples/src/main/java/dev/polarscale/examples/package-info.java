/**
 * Runnable examples of {@code polar-replication}: {@link dev.polarscale.examples.Demo} (a local cluster
 * scaled out and in, every step timed) and {@link dev.polarscale.examples.Benchmark} (the library's
 * steps against a shell script of the tutorial's commands). Applications, not an API: run them with
 * {@code ./mvnw -B -q -DskipTests package exec:java -pl polar-examples -am}.
 */
package dev.polarscale.examples;
