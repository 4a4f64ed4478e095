package io.mtpspark.engine.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import java.time.Clock;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeStore;
import jinjava.de.odysseus.el.tree.impl.Cache;
import jinjava.javax.el.ExpressionFactory;

/**
 * A model's chat template (the Jinja {@code chat_template} of its {@code tokenizer_config.json}) rendered the way
 * Hugging Face's {@code apply_chat_template} renders it, with HubSpot's jinjava: {@code trim_blocks} and
 * {@code lstrip_blocks}, one trailing newline of the source dropped (Jinja's default), the variables
 * {@code messages}, {@code add_generation_prompt} and the tokenizer's special tokens ({@code bos_token}, …), the
 * functions {@code raise_exception(msg)} and {@code strftime_now(fmt)}, a {@code tojson} filter that writes what
 * Python's {@code json.dumps} writes, and Python's string methods ({@link PythonMethodResolver}). A template that
 * raises, or fails, throws a {@link TemplateException} naming the template's message. Immutable and safe to share
 * between threads; build it once per executor and render many rows with it.
 */
public final class ChatTemplate {
    private static final String CLOCK = "__mtp_clock__";
    private static final Jinjava JINJAVA = newJinjava();

    private final String source;
    private final Map<String, String> specialTokens;
    private final Clock clock;

    private ChatTemplate(String source, Map<String, String> specialTokens, Clock clock) {
        // Jinja drops a single trailing newline of the template (keep_trailing_newline=False); jinjava keeps it.
        this.source = source.endsWith("\r\n") ? source.substring(0, source.length() - 2)
                : source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        this.specialTokens = Map.copyOf(specialTokens);
        this.clock = clock;
    }

    /** A template with these special-token variables ({@code bos_token} → {@code <|begin_of_text|>}, …). */
    public static ChatTemplate of(String source, Map<String, String> specialTokens) {
        return of(source, specialTokens, Clock.systemDefaultZone());
    }

    /** As {@link #of(String, Map)}, with the clock {@code strftime_now} reads (tests fix it). */
    public static ChatTemplate of(String source, Map<String, String> specialTokens, Clock clock) {
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("empty chat template");
        }
        return new ChatTemplate(source, specialTokens, clock);
    }

    public String source() {
        return source;
    }

    public Map<String, String> specialTokens() {
        return specialTokens;
    }

    /**
     * Renders a conversation; with {@code addGenerationPrompt} the template appends the header that opens the
     * assistant's turn.
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Map<String, Object> vars = new LinkedHashMap<>(specialTokens);
        List<Map<String, Object>> list = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("role", m.role());
            message.put("content", m.content());
            list.add(message);
        }
        vars.put("messages", list);
        vars.put("add_generation_prompt", addGenerationPrompt);
        // Functions are not variables in jinjava; Jinja's globals are, and templates test "strftime_now is defined".
        vars.put("strftime_now", "strftime_now");
        vars.put(CLOCK, clock);
        RenderResult result = JINJAVA.renderForResult(source, vars);
        for (TemplateError e : result.getErrors()) {
            Raised raised = raisedBy(e.getException());
            if (raised != null) {
                throw new TemplateException("chat template raised an exception: " + raised.getMessage(), true);
            }
        }
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new TemplateException("chat template failed (line " + e.getLineno() + "): " + e.getMessage(),
                        false);
            }
        }
        return result.getOutput();
    }

    private static Raised raisedBy(Throwable t) {
        for (int depth = 0; t != null && depth < 10; t = t.getCause(), depth++) {
            if (t instanceof Raised r) {
                return r;
            }
        }
        return null;
    }

    private static Jinjava newJinjava() {
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withNestedInterpretationEnabled(false) // message text is data, never template code
                .withFailOnUnknownTokens(false)
                // Jinja2 behaviour where jinjava's defaults differ: {{- … -}} trims like {%- … -%}, Python's
                // operator precedence, and strict whitespace-control parsing.
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withKeepNullableLoopValues(true)
                        .build())
                .withElResolver(new PythonMethodResolver(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY))
                .build();
        Jinjava jinjava = new HfJinjava(config);
        try {
            jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception",
                    ChatTemplate.class.getDeclaredMethod("raiseException", String.class)));
            jinjava.registerFunction(new ELFunctionDefinition("", "strftime_now",
                    ChatTemplate.class.getDeclaredMethod("strftimeNow", String.class)));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        jinjava.registerFilter(new ToJson());
        return jinjava;
    }

    /** {@code raise_exception(message)}: the template refuses the conversation. */
    public static String raiseException(String message) {
        throw new Raised(message);
    }

    /** {@code strftime_now(format)}: the render's clock, formatted as Python's strftime does. */
    public static String strftimeNow(String format) {
        Object clock = JinjavaInterpreter.getCurrent().getContext().get(CLOCK);
        return PythonStrftime.format(LocalDateTime.now(clock instanceof Clock c ? c : Clock.systemDefaultZone()),
                format);
    }

    /** jinjava with {@link HfJinjaParser}'s Jinja2 grammar fixes. */
    private static final class HfJinjava extends Jinjava {
        private final ExpressionFactory expressions = new ExpressionFactoryImpl(
                new TreeStore(new HfJinjaParser.SyntaxBuilder(), new Cache(1000)), new TruthyTypeConverter());

        HfJinjava(JinjavaConfig config) {
            super(config);
        }

        @Override
        public ExpressionFactory getExpressionFactory() {
            return expressions;
        }
    }

    private static final class Raised extends RuntimeException {
        Raised(String message) {
            super(message, null, false, false);
        }
    }

    /** Hugging Face's {@code tojson}: json.dumps without ASCII escaping, optional {@code indent}. */
    private static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return PythonJson.dumps(var, args.length > 0 && args[0] != null ? Integer.valueOf(args[0]) : null);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
            return PythonJson.dumps(var, indent == null ? null : ((Number) (indent instanceof Number n ? n
                    : Integer.valueOf(indent.toString()))).intValue());
        }
    }
}
