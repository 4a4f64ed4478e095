package io.mtpspark.engine.chat;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.ext.AstNamedParameter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.el.ext.NamedParameterOperator;
import java.util.ArrayList;
import java.util.List;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Scanner.ScanException;
import jinjava.de.odysseus.el.tree.impl.Scanner.Symbol;
import jinjava.de.odysseus.el.tree.impl.ast.AstBracket;
import jinjava.de.odysseus.el.tree.impl.ast.AstDot;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstParameters;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;

/**
 * jinjava's expression parser with the three places where its grammar differs from Jinja2's and a real chat template
 * notices, fixed where they arise (the templates are never rewritten):
 * <ul>
 *   <li>{@code not} binds looser than comparisons and tests, so {@code not x is defined} is
 *       {@code not (x is defined)} (jinjava reads {@code (not x) is defined}; DeepSeek-R1's template depends on it);
 *   <li>a keyword argument's value is a whole expression: {@code namespace(i=messages|length - 1)} (Qwen3);
 *   <li>slices take a step: {@code messages[::-1]} (Qwen3), evaluated with Python's rules by {@link AstSlice}.
 * </ul>
 */
final class HfJinjaParser extends ExtendedParser {

    HfJinjaParser(Builder context, String input) {
        super(context, input);
    }

    /** Builds {@link HfJinjaParser}s; jinjava's defaults otherwise (method calls and varargs on). */
    static final class SyntaxBuilder extends ExtendedSyntaxBuilder {
        private static final long serialVersionUID = 1L;

        SyntaxBuilder() {
            super(Feature.METHOD_INVOCATIONS, Feature.VARARGS);
        }

        @Override
        protected jinjava.de.odysseus.el.tree.impl.Parser createParser(String expression) {
            return new HfJinjaParser(this, expression);
        }
    }

    @Override
    protected AstNode unary(boolean required) throws ScanException, ParseException {
        if (getToken().getSymbol() == Symbol.NOT) {
            consumeToken();
            return createAstUnary(eq(true), AstUnary.NOT);
        }
        return super.unary(required);
    }

    @Override
    protected AstParameters params(Symbol left, Symbol right) throws ScanException, ParseException {
        consumeToken(left);
        List<AstNode> args = new ArrayList<>();
        AstNode first = argument(false);
        if (first != null) {
            args.add(first);
            while (getToken().getSymbol() == Symbol.COMMA) {
                consumeToken();
                args.add(argument(true));
            }
        }
        consumeToken(right);
        return createAstParameters(args);
    }

    private AstNode argument(boolean required) throws ScanException, ParseException {
        if (getToken().getSymbol() == Symbol.IDENTIFIER && lookahead(0) == NamedParameterOperator.TOKEN) {
            String name = consumeToken().getImage();
            consumeToken(); // '='
            return new AstNamedParameter(identifier(name), expr(true));
        }
        return expr(required);
    }

    /**
     * A primary with its postfix operations ({@code .name}, {@code .method(…)}, {@code [index]}, {@code [a:b]},
     * {@code [a:b:step]}); filters and tests come after, in {@code filter()}, as under jinjava's natural precedence.
     */
    @Override
    protected AstNode value() throws ScanException, ParseException {
        boolean lvalue = true;
        AstNode v = nonliteral();
        if (v == null) {
            v = literal();
            if (v == null) {
                return null;
            }
            lvalue = false;
        }
        boolean methods = context.isEnabled(Builder.Feature.METHOD_INVOCATIONS);
        boolean strict = !context.isEnabled(Builder.Feature.NULL_PROPERTIES);
        while (true) {
            if (getToken().getSymbol() == Symbol.DOT) {
                consumeToken();
                AstDot dot = createAstDot(v, consumeToken(Symbol.IDENTIFIER).getImage(), lvalue);
                v = methods && getToken().getSymbol() == Symbol.LPAREN ? createAstMethod(dot, params()) : dot;
            } else if (getToken().getSymbol() == Symbol.LBRACK && isStepSlice()) {
                consumeToken();
                AstNode start = getToken().getSymbol() == Symbol.COLON ? null : expr(true);
                consumeToken(Symbol.COLON);
                AstNode stop = getToken().getSymbol() == Symbol.COLON ? null : expr(true);
                consumeToken(Symbol.COLON);
                AstNode step = getToken().getSymbol() == Symbol.RBRACK ? null : expr(true);
                consumeToken(Symbol.RBRACK);
                v = new AstSlice(v, start, stop, step);
            } else if (getToken().getSymbol() == Symbol.LBRACK) {
                consumeToken();
                AstNode index = expr(false);
                if (getToken().getSymbol() == Symbol.COLON) {
                    consumeToken();
                    AstNode max = expr(false);
                    consumeToken(Symbol.RBRACK);
                    v = createAstRangeBracket(v, index, max, lvalue, strict);
                } else {
                    consumeToken(Symbol.RBRACK);
                    AstBracket bracket = createAstBracket(v, index, lvalue, strict);
                    v = methods && getToken().getSymbol() == Symbol.LPAREN ? createAstMethod(bracket, params())
                            : bracket;
                }
            } else {
                return v;
            }
        }
    }

    /** Whether the bracket ahead holds two colons at its own nesting level. */
    private boolean isStepSlice() throws ScanException, ParseException {
        int depth = 0;
        int colons = 0;
        for (int i = 0; ; i++) {
            Symbol s = lookahead(i).getSymbol();
            if (s == Symbol.EOF) {
                return false;
            }
            if (s == Symbol.LBRACK || s == Symbol.LPAREN) {
                depth++;
            } else if (s == Symbol.RPAREN || s == Symbol.RBRACK) {
                if (depth == 0) {
                    return colons == 2;
                }
                depth--;
            } else if (s == Symbol.COLON && depth == 0) {
                colons++;
            }
        }
    }
}
