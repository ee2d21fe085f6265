package dev.polarscale.replication;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * Micrometer is optional: only {@code dev.polarscale.replication.micrometer} may touch it, and
 * nothing else refers to that package, so no code path of a consumer without Micrometer loads a
 * class that needs it. (ScaleCrashIT runs reconciles in JVMs without it on the class path.)
 */
@AnalyzeClasses(packages = "dev.polarscale", importOptions = ImportOption.DoNotIncludeTests.class)
class MicrometerIsolationTest {

    @ArchTest
    static final ArchRule onlyTheBinderTouchesMicrometer = noClasses()
            .that().resideOutsideOfPackage("dev.polarscale.replication.micrometer..")
            .should().dependOnClassesThat().resideInAPackage("io.micrometer..");

    @ArchTest
    static final ArchRule nothingReachesForTheBinder = noClasses()
            .that().resideOutsideOfPackage("dev.polarscale.replication.micrometer..")
            .should().dependOnClassesThat().resideInAPackage("dev.polarscale.replication.micrometer..");
}
