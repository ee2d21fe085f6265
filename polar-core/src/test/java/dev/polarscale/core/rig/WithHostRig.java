package dev.polarscale.core.rig;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * One {@link HostRig} for the annotated test class, started before its first test asks for it
 * (a parameter of type {@link HostRig} of a test, a {@code @BeforeAll} or {@code @BeforeEach}
 * method or a constructor) and closed after the class's {@code @AfterAll} methods. Where the
 * rig cannot run, the class's tests are reported skipped with the reason.
 *
 * <pre>{@code
 * @WithHostRig(hosts = 2)
 * class TwoHostIT {
 *     @Test
 *     void standbyOnAnotherHost(HostRig rig) {
 *         try (CommandExecutor h1 = rig.host(1).ssh()) { ... }
 *     }
 * }
 * }</pre>
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(HostRigExtension.class)
public @interface WithHostRig {
    /** How many hosts. */
    int hosts() default 2;

    /** Whether the hosts share {@link HostRig#SHARED_DIR}. */
    boolean sharedDirectory() default true;
}
