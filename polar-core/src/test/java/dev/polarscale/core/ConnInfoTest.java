package dev.polarscale.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.Map;

import static dev.polarscale.core.NodeConfigTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConnInfoTest {

    @Test
    void plainValuesAreBareInAFixedOrder() {
        ConnInfo ci = ConnInfo.builder().applicationName("replica1").dbname("postgres").user("postgres")
                .port(5432).host("10.0.0.1").build();
        assertEquals("host=10.0.0.1 port=5432 user=postgres dbname=postgres application_name=replica1", ci.render());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "two words", "it's", "back\\slash", "\\", "'", "\\'", "trailing\\",
            "a=b", "#hash", "tab\tinside", "\"double\"", "ünïcode", "x'; host=evil.example"})
    void quotedValuesAreReadBackByLibpq(String password) {
        ConnInfo ci = ConnInfo.builder().host("db").user("rep").password(password).build();
        Map<String, String> read = LibpqConninfoReader.read(ci.render());
        assertEquals(password, read.get("password"));
        assertEquals(Map.of("host", "db", "user", "rep", "password", password), read);
    }

    @Test
    void quotingRules() {
        assertEquals("plain", ConnInfo.quote("plain"));
        assertEquals("''", ConnInfo.quote(""));
        assertEquals("'a b'", ConnInfo.quote("a b"));
        assertEquals("'it\\'s'", ConnInfo.quote("it's"));
        assertEquals("'c:\\\\dir'", ConnInfo.quote("c:\\dir"));
    }

    @Test
    void passwordIsMaskedButAvailable() {
        ConnInfo ci = ConnInfo.builder().host("db").user("rep").password("hunter 2").build();
        assertEquals("host=db user=rep password=" + Command.MASK, ci.toString());
        assertEquals(ci.toString(), ci.renderMasked());
        assertFalse(ci.toString().contains("hunter"));
        assertEquals("hunter 2", ci.password().orElseThrow());
        assertEquals("host=db user=rep password='hunter 2'", ci.render());
        assertEquals("host=db user=rep", ci.withoutPassword().render());
        assertTrue(ci.withoutPassword().password().isEmpty());
    }

    @Test
    void sslPasswordIsMaskedToo() {
        ConnInfo ci = ConnInfo.builder().host("db").option("sslpassword", "keypass").build();
        assertFalse(ci.toString().contains("keypass"));
    }

    @Test
    void typedAndOtherKeywords() {
        ConnInfo ci = ConnInfo.builder().host("/var/run/postgresql").sslMode(ConnInfo.SslMode.VERIFY_FULL)
                .connectTimeout(Duration.ofSeconds(5)).option("keepalives_idle", "30")
                .option("hostaddr", "10.0.0.1").build();
        assertEquals("host=/var/run/postgresql hostaddr=10.0.0.1 sslmode=verify-full connect_timeout=5"
                + " keepalives_idle=30", ci.render());
        assertEquals(ci, ci.toBuilder().build());
        assertEquals(Port.of(6000), ConnInfo.builder().port(6000).build().port().orElseThrow());
    }

    @ParameterizedTest
    @ValueSource(strings = {"replication", "hosts", "", "Host", "pass word", "password=x", "requiressl"})
    void unknownKeywordsAreRejectedByName(String keyword) {
        assertMessage(() -> ConnInfo.builder().option(keyword, "x"), "'" + keyword + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"host", "port", "user", "password", "dbname", "application_name", "sslmode",
            "connect_timeout"})
    void typedKeywordsMustUseTheirMethod(String keyword) {
        assertMessage(() -> ConnInfo.builder().option(keyword, "x"), keyword, "typed method");
    }

    @Test
    void badValuesAreRejectedAtOnce() {
        assertMessage(() -> ConnInfo.builder().host("two hosts"), "two hosts");
        assertMessage(() -> ConnInfo.builder().host(""), "''");
        assertMessage(() -> ConnInfo.builder().host("db'x"), "db'x");
        assertMessage(() -> ConnInfo.builder().port(0), "0");
        assertMessage(() -> ConnInfo.builder().user(""), "user");
        assertMessage(() -> ConnInfo.builder().dbname(""), "dbname");
        assertMessage(() -> ConnInfo.builder().password("line\nbreak"), "password", "control character");
        assertMessage(() -> ConnInfo.builder().applicationName("x".repeat(64)), "application_name");
        assertMessage(() -> ConnInfo.builder().applicationName("réplica"), "réplica");
        assertMessage(() -> ConnInfo.builder().applicationName(""), "application_name");
        assertMessage(() -> ConnInfo.builder().connectTimeout(Duration.ofMillis(1500)), "PT1.5S");
        assertMessage(() -> ConnInfo.builder().connectTimeout(Duration.ofSeconds(1)), "PT1S");
        assertThrows(NullPointerException.class, () -> ConnInfo.builder().user(null));
    }
}
