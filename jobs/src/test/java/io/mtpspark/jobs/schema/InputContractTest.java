package io.mtpspark.jobs.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class InputContractTest {
    @Test
    void acceptsTheMinimalAndTheFullInput() {
        assertEquals(List.of(), InputContract.problems(new StructType().add("id", DataTypes.StringType)
                .add("prompt", DataTypes.StringType)));
        assertEquals(List.of(), InputContract.problems(new StructType().add("ID", DataTypes.StringType)
                .add("prompt", DataTypes.BinaryType).add("max_tokens", DataTypes.LongType)
                .add("temperature", DataTypes.FloatType).add("domain", DataTypes.StringType)
                .add("seed", DataTypes.LongType).add("extra", DataTypes.BooleanType)));
    }

    @Test
    void namesMissingAndMistypedColumns() {
        List<String> problems = InputContract.problems(new StructType().add("text", DataTypes.StringType)
                .add("max_tokens", DataTypes.StringType));
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("missing required columns id, prompt (input has: text, max_tokens)"),
                problems.get(0));
        assertEquals("column max_tokens must be a number, got string", problems.get(1));
        assertEquals(List.of("column id must be a string, got bigint"), InputContract.problems(new StructType()
                .add("id", DataTypes.LongType).add("prompt", DataTypes.StringType)));
    }
}
