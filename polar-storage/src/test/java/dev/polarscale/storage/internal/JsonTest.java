package dev.polarscale.storage.internal;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class JsonTest {

    @Test
    void readsEveryValueKind() {
        Object v = Json.parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\\\"\\\\\\/\\n\\u00e9\"], \"b\": {}} ");
        Map<?, ?> m = (Map<?, ?>) v;
        List<?> a = (List<?>) m.get("a");
        assertEquals(new BigDecimal("1"), a.get(0));
        assertEquals(new BigDecimal("-2.5e3"), a.get(1));
        assertEquals(Boolean.TRUE, a.get(2));
        assertEquals(Boolean.FALSE, a.get(3));
        assertNull(a.get(4));
        assertEquals("x\"\\/\n\u00e9", a.get(5));
        assertEquals(Map.of(), m.get("b"));
        assertEquals(List.of("a", "b"), List.copyOf(m.keySet()));
    }

    @Test
    void keepsBigSizesExact() {
        assertEquals(new BigDecimal("18446744073709551615"), Json.parse("18446744073709551615"));
    }

    @Test
    void rejectsWhatIsNotStrictJson() {
        for (String bad : Arrays.asList("", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "01", "1.", "-", "tru", "nul",
                "\"a", "\"\\x\"", "\"\t\"", "{\"a\":1}x", "{\"a\":1,\"a\":2}", "[1 2]", "{\"a\" 1}", "NaN",
                "\"\\u12\"", "[" .repeat(100) + "]".repeat(100))) {
            assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
        }
    }

    @Test
    void namesTheOffsetOfTheError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse("[1, x]"));
        assertEquals("invalid JSON at offset 4: unexpected character 'x'", e.getMessage());
    }
}
