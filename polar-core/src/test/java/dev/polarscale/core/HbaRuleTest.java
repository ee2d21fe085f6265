package dev.polarscale.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static dev.polarscale.core.NodeConfigTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HbaRuleTest {

    @Test
    void replicationRuleIsScramFromTheNamedNetwork() {
        assertEquals("host replication replicator 10.0.0.0/24 scram-sha-256",
                HbaRule.replication("replicator", "10.0.0.0/24").render());
        assertEquals("host replication postgres 127.0.0.1/32 scram-sha-256",
                HbaRule.replication("postgres", "127.0.0.1/32").render());
        assertEquals("host replication postgres fd00::/8 scram-sha-256",
                HbaRule.replication("postgres", "FD00::/8").render());
    }

    @Test
    void builderDefaultsToHostAndScram() {
        HbaRule r = HbaRule.builder().database("app").user("app").address("192.168.1.7/32").build();
        assertEquals("host app app 192.168.1.7/32 scram-sha-256", r.render());
        assertEquals(HbaRule.ConnectionType.HOST, r.type());
        assertEquals("scram-sha-256", r.method());
    }

    @Test
    void otherTypesAndMethods() {
        assertEquals("local all postgres peer", HbaRule.builder().type(HbaRule.ConnectionType.LOCAL)
                .allDatabases().user("postgres").method(HbaRule.Method.PEER).build().render());
        assertEquals("hostssl all all ::1/128 md5", HbaRule.builder().type(HbaRule.ConnectionType.HOSTSSL)
                .allDatabases().allUsers().address("::1/128").method(HbaRule.Method.MD5).build().render());
        assertEquals("hostnossl all all all reject", HbaRule.builder().type(HbaRule.ConnectionType.HOSTNOSSL)
                .allDatabases().allUsers().fromAnywhereInsecure().method(HbaRule.Method.REJECT).build().render());
    }

    @Test
    void trustAndAnywhereOnlyThroughLoudMethods() {
        assertTrue(Arrays.stream(HbaRule.Method.values()).noneMatch(m -> m.value().equals("trust")));
        assertMessage(() -> HbaRule.builder().address("0.0.0.0/0"), "0.0.0.0/0", "fromAnywhereInsecure()");
        assertMessage(() -> HbaRule.builder().address("::/0"), "::/0", "fromAnywhereInsecure()");
        assertMessage(() -> HbaRule.builder().address("all"), "'all'");
        assertMessage(() -> HbaRule.builder().address("samenet"), "'samenet'");
        HbaRule tutorial = HbaRule.builder().replicationDatabase().user("postgres").fromAnywhereInsecure()
                .insecureTrust().build();
        assertEquals("host replication postgres all trust", tutorial.render());
    }

    @Test
    void keywordLikeNamesAreQuoted() {
        HbaRule r = HbaRule.builder().database("replication").user("all").address("10.0.0.0/8").build();
        assertEquals("host \"replication\" \"all\" 10.0.0.0/8 scram-sha-256", r.render());
        assertEquals("host \"+admins\" \"@file\" 10.0.0.0/8 scram-sha-256", HbaRule.builder()
                .database("+admins").user("@file").address("10.0.0.0/8").build().render());
        assertEquals("host ALL Replication 10.0.0.0/8 scram-sha-256", HbaRule.builder()
                .database("ALL").user("Replication").address("10.0.0.0/8").build().render());
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.300/8", "1.2.3.4/33", "abc", "", "10.0.0.0", "10.0.0.0/", "/8", "10.0.0/24",
            "10.0.0.0.0/24", "010.0.0.0/8", "10.0.0.0/08", "10.0.0.0/-1", "10.0.0.0/8 ", " 10.0.0.0/8",
            "10.0.0.1/8", "1.2.3.4/32/1", "10.0.0.0/8\nhost all all 0.0.0.0/0 trust", "::1/129", "fe80::1%eth0/128",
            "1:2:3:4:5:6:7:8:9/128", "1::2::3/128", "12345::/16", "g::/16", ":::/128", "1.2.3.4::/128",
            "::ffff:1.2.3.256/128", "fd00::1/8", "localhost/32", "0x0a.0.0.0/8", "10.0.0.0/24,10.1.0.0/24"})
    void badCidrsAreRejectedNamingThem(String cidr) {
        assertMessage(() -> HbaRule.builder().address(cidr), "'" + cidr.replace("\n", "\\u000A") + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0/8", "192.168.1.7/32", "0.0.0.0/1", "255.255.255.255/32", "::1/128",
            "fd00::/8", "2001:db8::/32", "::ffff:10.0.0.0/104", "1:2:3:4:5:6:7:8/128", "fe80::/10", "::/1"})
    void goodCidrs(String cidr) {
        HbaRule r = HbaRule.builder().allDatabases().user("u").address(cidr).build();
        assertEquals(cidr, r.address().orElseThrow());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "two words", "tab\tname", "new\nline", "quo\"te", "it's", "a,b", "a#b",
            "nbsp\u00a0x", "\u0000",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})
    void badNamesAreRejected(String name) {
        String shown = name.replace("\n", "\\u000A").replace("\t", "\\u0009").replace("\u0000", "\\u0000");
        assertMessage(() -> HbaRule.builder().user(name), "user", shown);
        assertMessage(() -> HbaRule.builder().database(name), "database", shown);
    }

    @Test
    void crossFieldRules() {
        assertMessage(HbaRule.builder().allDatabases().address("10.0.0.0/8")::build, "user");
        assertMessage(HbaRule.builder().allUsers().address("10.0.0.0/8")::build, "database");
        assertMessage(HbaRule.builder().allDatabases().allUsers()::build, "host rule needs an address");
        assertMessage(HbaRule.builder().type(HbaRule.ConnectionType.LOCAL).allDatabases().allUsers()
                .address("10.0.0.0/8")::build, "local", "10.0.0.0/8");
        assertMessage(HbaRule.builder().allDatabases().allUsers().address("10.0.0.0/8")
                .method(HbaRule.Method.PEER)::build, "peer", "host");
    }

    private static final String INITDB_HBA = "# TYPE  DATABASE        USER            ADDRESS                 METHOD\n"
            + "local   all             all                                     trust\n"
            + "host    all             all             127.0.0.1/32            trust\n"
            + "host    replication     all             127.0.0.1/32            trust\n";

    @Test
    void blockGoesAtTheTopAndIsReplaced() {
        List<HbaRule> one = List.of(HbaRule.replication("rep", "10.0.0.0/24"));
        List<HbaRule> two = List.of(HbaRule.replication("rep", "10.0.0.0/24"),
                HbaRule.replication("rep", "10.0.1.0/24"));
        String once = HbaRule.mergeInto(INITDB_HBA, one);
        assertEquals("# BEGIN polarscale managed block\n"
                + "host replication rep 10.0.0.0/24 scram-sha-256\n"
                + "# END polarscale managed block\n" + INITDB_HBA, once);
        assertEquals(once, HbaRule.mergeInto(once, one));
        String replaced = HbaRule.mergeInto(once, two);
        assertEquals(HbaRule.mergeInto(INITDB_HBA, two), replaced);
        assertTrue(replaced.endsWith(INITDB_HBA));
        assertEquals(INITDB_HBA, HbaRule.mergeInto(replaced, List.of()).replace(
                "# BEGIN polarscale managed block\n# END polarscale managed block\n", ""));
    }

    @Test
    void writeInto(@TempDir Path dir) throws IOException {
        Path hba = dir.resolve("pg_hba.conf");
        Files.writeString(hba, INITDB_HBA);
        List<HbaRule> rules = List.of(HbaRule.replication("rep", "10.0.0.0/24"));
        HbaRule.writeInto(hba, rules);
        HbaRule.writeInto(hba, rules);
        assertEquals(HbaRule.mergeInto(INITDB_HBA, rules), Files.readString(hba));
        assertFalse(Files.readString(hba).contains("0.0.0.0/0"));
    }
}
