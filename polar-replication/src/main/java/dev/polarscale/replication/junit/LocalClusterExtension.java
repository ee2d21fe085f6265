package dev.polarscale.replication.junit;

import dev.polarscale.replication.LocalCluster;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

import java.util.Optional;

/**
 * Injects a running {@link LocalCluster} into parameters of that type. The cluster is created
 * once per test class or once per run ({@link WithLocalCluster#scope()}), kept in a JUnit
 * {@link ExtensionContext.Store} ({@code getOrComputeIfAbsent}: the test class's store for
 * {@code CLASS}, the root store for {@code RUN}) and closed by JUnit when that context ends,
 * which stops the servers and deletes their directories. The cluster's own shutdown hook covers
 * a run that is killed.
 *
 * <p>Register it with {@link WithLocalCluster} (or {@code @ExtendWith}, which means one standby,
 * class scope).
 */
public final class LocalClusterExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(LocalClusterExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == LocalCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Optional<WithLocalCluster> config = findConfig(context);
        int standbys = config.map(WithLocalCluster::standbys).orElse(1);
        WithLocalCluster.Scope scope = config.map(WithLocalCluster::scope).orElse(WithLocalCluster.Scope.CLASS);
        ExtensionContext owner = scope == WithLocalCluster.Scope.RUN ? context.getRoot() : classContext(context);
        String key = scope == WithLocalCluster.Scope.RUN
                ? "run/standbys=" + standbys
                : "class/" + owner.getRequiredTestClass().getName();
        return owner.getStore(NAMESPACE)
                .getOrComputeIfAbsent(key, k -> new StoredCluster(LocalCluster.builder().standbys(standbys).build()
                        .start()), StoredCluster.class)
                .cluster;
    }

    private static Optional<WithLocalCluster> findConfig(ExtensionContext context) {
        for (Optional<ExtensionContext> c = Optional.of(context); c.isPresent(); c = c.get().getParent()) {
            Optional<Class<?>> type = c.get().getTestClass();
            if (type.isPresent()) {
                for (Class<?> t = type.get(); t != null; t = t.getEnclosingClass()) {
                    Optional<WithLocalCluster> found = AnnotationSupport.findAnnotation(t, WithLocalCluster.class);
                    if (found.isPresent()) {
                        return found;
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** The context of the test class: the parent of a method's context, or the class's own. */
    private static ExtensionContext classContext(ExtensionContext context) {
        ExtensionContext c = context;
        while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
            c = c.getParent().get();
        }
        return c;
    }

    /**
     * The store's value: JUnit 5.13+ closes {@link AutoCloseable} values, older versions
     * {@code CloseableResource} ones; {@link LocalCluster#close()} is idempotent either way.
     */
    @SuppressWarnings("deprecation")
    private static final class StoredCluster implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        private final LocalCluster cluster;

        private StoredCluster(LocalCluster cluster) {
            this.cluster = cluster;
        }

        @Override
        public void close() {
            cluster.close();
        }
    }
}
