package dev.polarscale.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.polarscale.core.NodeRole;
import dev.polarscale.replication.ClusterStatus;
import dev.polarscale.replication.NodeStatus;
import dev.polarscale.replication.StorageStatus;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code status --json}: valid JSON by a real parser, every field present, every string escaped. */
class StatusJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aHealthyClusterAndAnUnreachableNode() throws Exception {
        String nasty = "FATAL: \"x\" \\ tab\there\nnew line \u0001 \u2028 ü";
        ClusterStatus st = new ClusterStatus(List.of(
                new NodeStatus("primary", NodeRole.PRIMARY, "127.0.0.1", 5432, true, Optional.of(false),
                        Optional.empty(), Optional.empty(), OptionalLong.empty(), Optional.empty(), Optional.empty()),
                new NodeStatus("standby-1", NodeRole.STANDBY, "127.0.0.1", 5433, true, Optional.of(true),
                        Optional.of(true), Optional.of("streaming"), OptionalLong.of(0),
                        Optional.of(Duration.ofNanos(1_234_567)), Optional.empty()),
                new NodeStatus("standby-2", NodeRole.STANDBY, "10.0.0.2", 5432, false, Optional.empty(),
                        Optional.of(false), Optional.empty(), OptionalLong.empty(), Optional.empty(), Optional.of(nasty))),
                List.of(new StorageStatus("127.0.0.1", "/nvme1n1/shared/", Optional.of("/dev/nvme1n1"),
                        Optional.of(true), Optional.empty())));
        String text = StatusJson.of(st);
        assertFalse(text.contains("\n"), "one line: " + text);
        JsonNode root = JSON.readTree(text);
        assertFalse(root.get("healthy").asBoolean());
        JsonNode nodes = root.get("nodes");
        assertEquals(3, nodes.size());
        JsonNode p = nodes.get(0);
        assertEquals("primary", p.get("role").asText());
        assertTrue(p.get("healthy").asBoolean());
        assertTrue(p.get("slotActive").isNull() && p.get("replayLagMs").isNull() && p.get("error").isNull());
        JsonNode s1 = nodes.get(1);
        assertEquals("streaming", s1.get("replication").asText());
        assertEquals(0, s1.get("replayLagBytes").asLong());
        assertEquals(1.235, s1.get("replayLagMs").asDouble(), 0.0005);
        assertTrue(s1.get("slotActive").asBoolean() && s1.get("inRecovery").asBoolean() && s1.get("healthy").asBoolean());
        JsonNode s2 = nodes.get(2);
        assertEquals(nasty, s2.get("error").asText(), "escaped and read back unchanged");
        assertFalse(s2.get("reachable").asBoolean());
        assertEquals(5432, s2.get("port").asInt());
        JsonNode storage = root.get("storage").get(0);
        assertEquals("/dev/nvme1n1", storage.get("device").asText());
        assertTrue(storage.get("pfsdRunning").asBoolean() && storage.get("healthy").asBoolean());
        for (JsonNode n : nodes) {
            assertEquals(12, n.size(), "every field always present: " + n);
        }
    }

    @Test
    void everyControlCharacterIsEscaped() throws Exception {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x80; c++) {
            all.append(c);
        }
        String json = StatusJson.quote(new StringBuilder(), all.toString()).toString();
        assertTrue(json.chars().noneMatch(c -> c < 0x20), json);
        assertEquals(all.toString(), JSON.readTree(json).asText());
    }
}
