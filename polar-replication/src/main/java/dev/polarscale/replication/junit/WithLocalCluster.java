package dev.polarscale.replication.junit;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Gives a test class a {@link dev.polarscale.replication.LocalCluster}: declare a parameter of that
 * type on a test method, a lifecycle method or the constructor. Usable as a meta-annotation.
 *
 * <pre>{@code
 * @WithLocalCluster(standbys = 2)
 * class ReadScalingIT {
 *     @Test
 *     void readsOnEveryStandby(LocalCluster cluster) throws SQLException {
 *         try (Connection c = cluster.dataSource().getConnection()) { ... }   // primary
 *         for (String s : cluster.standbyNames()) {
 *             try (Connection c = cluster.dataSource(s).getConnection()) { ... }
 *         }
 *     }
 * }
 * }</pre>
 *
 * @see LocalClusterExtension
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(LocalClusterExtension.class)
public @interface WithLocalCluster {

    /** Standbys started with the primary. */
    int standbys() default 1;

    /** How widely the cluster is shared. */
    Scope scope() default Scope.CLASS;

    /** How long one cluster lives and who shares it. */
    enum Scope {
        /** One cluster per test class, closed after the class's last test. */
        CLASS,
        /**
         * One cluster per test run for every class that asks for the same number of standbys,
         * closed when the run ends. Tests sharing it must leave the node set as they found it.
         */
        RUN
    }
}
