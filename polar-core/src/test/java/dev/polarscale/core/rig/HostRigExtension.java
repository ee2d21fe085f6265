package dev.polarscale.core.rig;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Starts one {@link HostRig} per class annotated {@link WithHostRig} before its {@code @BeforeAll}
 * methods, keeps it in the class's extension store, which closes it (an {@link AutoCloseable}) after
 * the class, and resolves {@link HostRig} parameters to it. Where the rig cannot run
 * ({@link HostRig#unavailableReason()}), a condition disables the class first, so each test is
 * reported skipped with the reason: an abort in a {@code BeforeAllCallback} would make the class
 * show as "Tests run: 0".
 */
public final class HostRigExtension implements ExecutionCondition, BeforeAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(HostRigExtension.class);

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return HostRig.unavailableReason()
                .map(why -> ConditionEvaluationResult.disabled("the multi-host test rig cannot run here: " + why))
                .orElseGet(() -> ConditionEvaluationResult.enabled("the multi-host test rig can run"));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        WithHostRig spec = AnnotationSupport.findAnnotation(testClass, WithHostRig.class)
                .orElseThrow(() -> new IllegalStateException(testClass.getName() + " is not annotated @WithHostRig"));
        ExtensionContext.Store store = context.getStore(NAMESPACE);
        if (store.get(HostRig.class) == null) {
            HostRig.Builder b = HostRig.builder().hosts(spec.hosts());
            if (!spec.sharedDirectory()) {
                b.withoutSharedDirectory();
            }
            store.put(HostRig.class, b.start());
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == HostRig.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        HostRig rig = context.getStore(NAMESPACE).get(HostRig.class, HostRig.class);
        if (rig == null) {
            throw new ParameterResolutionException("no HostRig started for " + context.getRequiredTestClass().getName());
        }
        return rig;
    }
}
