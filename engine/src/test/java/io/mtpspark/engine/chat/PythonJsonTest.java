package io.mtpspark.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code tojson} writes what Python's json.dumps(ensure_ascii=False[, indent=4]) wrote (tojson-reference.json). */
class PythonJsonTest {
    @Test
    void matchesPythonJsonDumps() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode ref = json.readTree(getClass().getResourceAsStream("/chat/tojson-reference.json"));
        Object value = json.convertValue(ref.get("value"), Map.class);
        assertEquals(ref.get("compact").asText(), PythonJson.dumps(value, null));
        assertEquals(ref.get("indent4").asText(), PythonJson.dumps(value, 4));
        String rendered = ChatTemplate.of("{{ messages[0] | tojson }}", Map.of())
                .render(java.util.List.of(ChatMessage.user("«x» \"q\"")), false);
        assertEquals("{\"role\": \"user\", \"content\": \"«x» \\\"q\\\"\"}", rendered);
    }
}
