package dev.polarscale.core.junit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/** Runs fixture classes on the JUnit Platform, as Surefire does, and looks at what it reports. */
class AbortedSetupSkipsTestsTest {

    @Test
    void aFailedAssumptionInBeforeAllSkipsEachTestWithTheReason() {
        Report r = run(SetupAborts.class);
        assertEquals(java.util.Set.of("first()", "second()"), r.skipped.keySet(), "each test is reported skipped");
        r.skipped.values().forEach(why -> assertEquals("needs(): Assumption failed: the widget is missing", why,
                "the reason names the set-up method and says what the assumption said"));
        assertEquals(List.of(), r.finished.stream().filter(f -> !f.startsWith("class ")).toList());
        assertEquals(0, SetupAborts.laterSetUps.get(), "no @BeforeAll runs after the abort");
        assertEquals(1, SetupAborts.tearDowns.get(), "@AfterAll still runs");
    }

    @Test
    void aClassWhoseSetUpRunsIsUntouched() {
        Report r = run(SetUpRuns.class);
        assertEquals(Map.of(), r.skipped);
        assertEquals(java.util.Set.of("passes()=SUCCESSFUL", "assumesInTheTest()=ABORTED"),
                java.util.Set.copyOf(r.finished.stream().filter(f -> !f.startsWith("class ")).toList()));
    }

    @Test
    void aFailingSetUpStillFails() {
        Report r = run(SetupFails.class);
        assertEquals(Map.of(), r.skipped);
        assertTrue(r.finished.stream().anyMatch(f -> f.startsWith("class ") && f.endsWith("SetupFails=FAILED")),
                r.finished.toString());
    }

    private static Report run(Class<?> fixture) {
        LauncherDiscoveryRequest request = request().selectors(selectClass(fixture))
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                .build();
        Report report = new Report();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, report);
        return report;
    }

    private static final class Report implements TestExecutionListener {
        final Map<String, String> skipped = new ConcurrentHashMap<>();
        final List<String> finished = new ArrayList<>();

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            skipped.put(id.getDisplayName(), reason);
        }

        @Override
        public synchronized void executionFinished(TestIdentifier id, TestExecutionResult result) {
            if (id.isTest()) {
                finished.add(id.getDisplayName() + "=" + result.getStatus());
            } else if (id.getDisplayName().contains("Setup")) {
                finished.add("class " + id.getDisplayName() + "=" + result.getStatus());
            }
        }
    }

    /** A superclass's {@code @BeforeAll} runs before the subclass's. */
    abstract static class NeedsAWidget {
        @BeforeAll
        static void needs() {
            assumeTrue(false, "the widget is missing");
        }
    }

    static class SetupAborts extends NeedsAWidget {
        static final AtomicInteger laterSetUps = new AtomicInteger();
        static final AtomicInteger tearDowns = new AtomicInteger();

        @BeforeAll
        static void zLater() {
            laterSetUps.incrementAndGet();
        }

        @AfterAll
        static void tearDown() {
            tearDowns.incrementAndGet();
        }

        @Test
        void first() {
        }

        @Test
        void second() {
        }
    }

    static class SetUpRuns {
        @BeforeAll
        static void fine() {
        }

        @Test
        void passes() {
        }

        @Test
        void assumesInTheTest() {
            assumeTrue(false, "not here");
        }
    }

    static class SetupFails {
        @BeforeAll
        static void broken() {
            throw new IllegalStateException("broken set-up");
        }

        @Test
        void never() {
        }
    }
}
