package io.mtpspark.jobs.export;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.row_number;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.chat.ChatMessage;
import io.mtpspark.jobs.chat.ChatSettings;
import io.mtpspark.jobs.chat.RowPrompts;
import io.mtpspark.jobs.generate.EngineCache;
import io.mtpspark.jobs.generate.LoadedEngine;
import io.mtpspark.jobs.schema.GenerationRecord;
import io.mtpspark.jobs.schema.PromptRow;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.expressions.Window;

/**
 * Training-ready files from a run's successful rows: {@code chat-jsonl} lines
 * {@code {"messages": [..., {"role": "assistant", "content": …}]}} or {@code prompt-completion} lines
 * {@code {"prompt": …, "completion": …}} (the prompt as the model saw it: the rendered chat template for chat rows).
 * With {@code dedupe}, identical completions of one prompt are kept once (the lowest sample index). Written with
 * Spark's file commit protocol into a directory of its own, replaced as a whole, so a retried task or a failed job
 * never leaves a partial file behind.
 */
public final class TrainingExport {
    /** Where the export went and how many lines it holds; {@code duplicatesDropped} is 0 without dedupe. */
    public record Result(String format, String path, long rows, long duplicatesDropped) implements Serializable {
    }

    private TrainingExport() {
    }

    /**
     * @param generations the run's rows (this config hash)
     * @param input       the normalised input (id, prompt, …, messages, n, stop), one row per id
     * @param model       the model location; executors resolve it through their model store (for the chat template)
     */
    public static Result write(Dataset<Row> generations, Dataset<Row> input, String format, boolean dedupe,
                               ChatSettings chat, Map<String, String> infraConfig, String model, String path) {
        Dataset<Row> ok = generations.where(col("finish_reason").notEqual(GenerationRecord.ERROR))
                .select(col("id").as("gen_id"), col("sample_index"), col("completion"));
        long all = ok.count();
        if (dedupe) {
            ok = ok.withColumn("copy", row_number().over(Window.partitionBy("gen_id", "completion")
                    .orderBy("sample_index"))).where(col("copy").equalTo(1)).drop("copy");
        }
        Dataset<Row> joined = ok.join(input, ok.col("gen_id").equalTo(input.col("id"))).orderBy("gen_id",
                "sample_index");
        Dataset<String> lines = joined.mapPartitions(new Lines(format, chat, Map.copyOf(infraConfig), model),
                Encoders.STRING());
        lines.write().mode(SaveMode.Overwrite).text(path);
        long rows = lines.sparkSession().read().text(path).count();
        return new Result(format, path, rows, all - rows);
    }

    /** Row → one JSON line, on the executors. */
    private static final class Lines implements MapPartitionsFunction<Row, String> {
        private static final long serialVersionUID = 1L;
        private final String format;
        private final ChatSettings chat;
        private final Map<String, String> infraConfig;
        private final String model;

        Lines(String format, ChatSettings chat, Map<String, String> infraConfig, String model) {
            this.format = format;
            this.chat = chat;
            this.infraConfig = infraConfig;
            this.model = model;
        }

        @Override
        public Iterator<String> call(Iterator<Row> rows) throws Exception {
            ObjectMapper json = new ObjectMapper();
            String modelFile = LoadedEngine.modelFile(EngineCache.modelStore(infraConfig).resolve(model)).toString();
            RowPrompts prompts = new RowPrompts(chat, null, modelFile);
            List<String> out = new ArrayList<>();
            while (rows.hasNext()) {
                Row r = rows.next();
                PromptRow row = new PromptRow(r.getString(r.fieldIndex("id")),
                        r.isNullAt(r.fieldIndex("prompt")) ? null : (byte[]) r.get(r.fieldIndex("prompt")), null,
                        null, null, null, r.isNullAt(r.fieldIndex("messages")) ? null
                        : r.getString(r.fieldIndex("messages")), null, null, 0);
                String completion = r.getString(r.fieldIndex("completion"));
                ObjectNode line = json.createObjectNode();
                if (format.equals("chat-jsonl")) {
                    List<ChatMessage> conversation = prompts.conversation(row);
                    if (conversation == null) {
                        conversation = List.of(ChatMessage.user(RowPrompts.decodePrompt(row.promptBytes())));
                    }
                    ArrayNode messages = line.putArray("messages");
                    for (ChatMessage m : conversation) {
                        messages.addObject().put("role", m.role()).put("content", m.content());
                    }
                    messages.addObject().put("role", "assistant").put("content", completion);
                } else {
                    line.put("prompt", prompts.promptText(row)).put("completion", completion);
                }
                out.add(json.writeValueAsString(line));
            }
            return out.iterator();
        }
    }
}
