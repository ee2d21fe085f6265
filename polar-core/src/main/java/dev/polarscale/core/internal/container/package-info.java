/**
 * Internal: no compatibility promise. The executor that runs commands in a container through its CLI;
 * obtain it from {@link dev.polarscale.core.Executors}.
 */
package dev.polarscale.core.internal.container;
