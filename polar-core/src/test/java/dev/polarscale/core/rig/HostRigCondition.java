package dev.polarscale.core.rig;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Disables a test class where the {@link HostRig} cannot run, with the reason
 * ({@link HostRig#unavailableReason()}).
 *
 * <p>A class whose {@code @BeforeAll} aborts is reported by Surefire/Failsafe as "Tests run: 0", as if it
 * had no tests; a class disabled by a condition is reported with each test skipped and the reason. So
 * every class that needs the rig carries this condition: {@link WithHostRig} does, and a class that
 * starts its own rig says {@code @ExtendWith(HostRigCondition.class)}.
 */
public final class HostRigCondition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return HostRig.unavailableReason()
                .map(why -> ConditionEvaluationResult.disabled("the multi-host test rig cannot run here: " + why))
                .orElseGet(() -> ConditionEvaluationResult.enabled("the multi-host test rig can run"));
    }
}
