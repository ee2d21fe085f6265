package dev.polarscale.examples;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * Keeps the module flow one way (core ← storage ← replication ← examples), keeps each module's
 * {@code .internal} package its own, and forbids package cycles.
 */
@AnalyzeClasses(packages = "dev.polarscale", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule coreDependsOnNoOtherModule = noClasses()
            .that().resideInAPackage("dev.polarscale.core..")
            .should().dependOnClassesThat().resideInAnyPackage(
                    "dev.polarscale.storage..", "dev.polarscale.replication..", "dev.polarscale.examples..");

    @ArchTest
    static final ArchRule storageDependsOnlyOnCore = noClasses()
            .that().resideInAPackage("dev.polarscale.storage..")
            .should().dependOnClassesThat().resideInAnyPackage(
                    "dev.polarscale.replication..", "dev.polarscale.examples..");

    @ArchTest
    static final ArchRule replicationDoesNotDependOnExamples = noClasses()
            .that().resideInAPackage("dev.polarscale.replication..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.polarscale.examples..");

    @ArchTest
    static final ArchRule coreInternalsStayInCore = noClasses()
            .that().resideOutsideOfPackage("dev.polarscale.core..")
            .should().dependOnClassesThat().resideInAPackage("dev.polarscale.core.internal..");

    @ArchTest
    static final ArchRule storageInternalsStayInStorage = noClasses()
            .that().resideOutsideOfPackage("dev.polarscale.storage..")
            .should().dependOnClassesThat().resideInAPackage("dev.polarscale.storage.internal..");

    @ArchTest
    static final ArchRule replicationInternalsStayInReplication = noClasses()
            .that().resideOutsideOfPackage("dev.polarscale.replication..")
            .should().dependOnClassesThat().resideInAPackage("dev.polarscale.replication.internal..");

    /**
     * The operations in {@code replication.internal} depend on one context object, never back on
     * the facade (or the fixture built on it): no import circle through {@code ClusterScaler}.
     */
    @ArchTest
    static final ArchRule operationsNeverDependOnTheFacade = noClasses()
            .that().resideInAPackage("dev.polarscale.replication.internal..")
            .should().dependOnClassesThat().haveFullyQualifiedName("dev.polarscale.replication.ClusterScaler")
            .orShould().dependOnClassesThat().haveFullyQualifiedName("dev.polarscale.replication.LocalCluster");

    @ArchTest
    static final ArchRule noPackageCycles = slices()
            .matching("dev.polarscale.(*)..")
            .should().beFreeOfCycles();

    @ArchTest
    static final ArchRule noSystemOutInLibraries = noClasses()
            .that().resideInAnyPackage("dev.polarscale.core..", "dev.polarscale.storage..",
                    "dev.polarscale.replication..")
            .should().accessField(System.class, "out")
            .orShould().accessField(System.class, "err");
}
