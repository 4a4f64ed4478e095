package io.mtpspark.engine.chat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstRightValue;
import jinjava.javax.el.ELContext;

/** {@code base[start:stop:step]} on a list or a string, with Python's slice semantics (negative steps included). */
final class AstSlice extends AstRightValue {
    private final AstNode base;
    private final AstNode start;
    private final AstNode stop;
    private final AstNode step;

    AstSlice(AstNode base, AstNode start, AstNode stop, AstNode step) {
        this.base = base;
        this.start = start;
        this.stop = stop;
        this.step = step;
    }

    @Override
    public Object eval(Bindings bindings, ELContext context) {
        Object value = base.eval(bindings, context);
        List<?> items = value instanceof String s ? s.chars().mapToObj(c -> String.valueOf((char) c)).toList()
                : value instanceof List<?> l ? l
                : value instanceof Object[] a ? Arrays.asList(a) : null;
        if (items == null) {
            return null;
        }
        int n = items.size();
        int by = step == null ? 1 : number(step.eval(bindings, context), 1);
        if (by == 0) {
            throw new IllegalArgumentException("slice step cannot be zero");
        }
        int from = bound(start == null ? null : start.eval(bindings, context), n, by > 0 ? 0 : n - 1, by);
        int to = bound(stop == null ? null : stop.eval(bindings, context), n, by > 0 ? n : -1, by);
        List<Object> out = new ArrayList<>();
        for (int i = from; by > 0 ? i < to : i > to; i += by) {
            out.add(items.get(i));
        }
        if (value instanceof String) {
            StringBuilder sb = new StringBuilder();
            out.forEach(sb::append);
            return sb.toString();
        }
        return out;
    }

    /** Python's slice index adjustment (PySlice_AdjustIndices). */
    private static int bound(Object v, int n, int absent, int step) {
        if (v == null) {
            return absent;
        }
        int i = number(v, 0);
        if (i < 0) {
            i += n;
            if (i < 0) {
                i = step < 0 ? -1 : 0;
            }
        } else if (i >= n) {
            i = step < 0 ? n - 1 : n;
        }
        return i;
    }

    private static int number(Object v, int absent) {
        return v instanceof Number num ? num.intValue() : v == null ? absent : Integer.parseInt(v.toString());
    }

    @Override
    public void appendStructure(StringBuilder b, Bindings bindings) {
        base.appendStructure(b, bindings);
        b.append('[');
        if (start != null) {
            start.appendStructure(b, bindings);
        }
        b.append(':');
        if (stop != null) {
            stop.appendStructure(b, bindings);
        }
        b.append(':');
        if (step != null) {
            step.appendStructure(b, bindings);
        }
        b.append(']');
    }

    @Override
    public int getCardinality() {
        return 4;
    }

    @Override
    public AstNode getChild(int i) {
        return switch (i) {
            case 0 -> base;
            case 1 -> start;
            case 2 -> stop;
            case 3 -> step;
            default -> null;
        };
    }
}
