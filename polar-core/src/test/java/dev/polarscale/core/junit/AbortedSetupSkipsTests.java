package dev.polarscale.core.junit;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.opentest4j.TestAbortedException;

import java.lang.reflect.Method;

/**
 * Makes an assumption that fails in a {@code @BeforeAll} method skip each test of the class with its
 * reason, instead of the class vanishing from the reports.
 *
 * <p>Surefire and Failsafe report a class whose {@code @BeforeAll} aborts as "Tests run: 0, Skipped: 0",
 * the same as a class without tests: a test that cannot run on this machine would pass silently. This
 * extension catches the abort, runs no further {@code @BeforeAll} method of the class, and disables each
 * test with the assumption's message, so the report counts them as skipped and says why. Failures other
 * than a failed assumption propagate unchanged; {@code @AfterAll} methods run as before (they must cope
 * with a set-up that stopped early, as they had to).
 *
 * <p>Registered for every test class through {@code META-INF/services} and
 * {@code junit.jupiter.extensions.autodetection.enabled=true} in each module's
 * {@code junit-platform.properties}.
 */
public final class AbortedSetupSkipsTests implements InvocationInterceptor, ExecutionCondition {
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(AbortedSetupSkipsTests.class);
    private static final String REASON = "reason";

    @Override
    public void interceptBeforeAllMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> method,
                                         ExtensionContext context) throws Throwable {
        ExtensionContext.Store store = context.getStore(NAMESPACE);
        if (store.get(REASON) != null) {
            invocation.skip();
            return;
        }
        try {
            invocation.proceed();
        } catch (TestAbortedException aborted) {
            String why = aborted.getMessage() == null ? "assumption failed" : aborted.getMessage();
            store.put(REASON, method.getExecutable().getName() + "(): " + why);
        }
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (context.getTestMethod().isEmpty()) {
            return ConditionEvaluationResult.enabled("a class runs its set-up");
        }
        String why = context.getStore(NAMESPACE).get(REASON, String.class);  // the class's, through the parent
        return why == null
                ? ConditionEvaluationResult.enabled("the class's set-up ran")
                : ConditionEvaluationResult.disabled(why);
    }
}
