package io.mtpspark.jobs.report;

import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;

/**
 * Bar charts as inline SVG, drawn in Java so the dashboard needs no script library and no network. Every drawn
 * datum is an element with class {@code mark} (the dashboard's self-check counts them); axes get "nice" ticks
 * (1, 2 or 5 × 10^n) and start at zero, with negative values drawn below the zero line.
 */
public final class SvgChart {
    /**
     * One series of a grouped bar chart; {@code barColors}, when not null, colours each bar on its own (the legend
     * then comes from {@code legend} of {@link #bars}).
     */
    public record Series(String name, String color, List<Double> values, List<String> barColors) {
        public Series(String name, String color, List<Double> values) {
            this(name, color, values, null);
        }

        String colorOf(int i) {
            return barColors == null ? color : barColors.get(i);
        }
    }

    /** A legend entry. */
    public record Key(String name, String color) {
    }

    private static final int WIDTH = 640;
    private static final int HEIGHT = 300;
    private static final int LEFT = 78;
    private static final int RIGHT = 16;
    private static final int TOP = 30;
    private static final int BOTTOM = 62;

    /** Font sizes (px) of value and axis labels, as in the dashboard's style sheet. */
    static final double VALUE_FONT = 10;
    static final double LABEL_FONT = 11;

    private SvgChart() {
    }

    /**
     * A conservative width estimate of {@code text} in a sans-serif font of {@code size} px (0.62 em per character,
     * wider than the average digit and lower-case letter), for placing labels without a layout engine.
     */
    static double textWidth(String text, double size) {
        return text.length() * 0.62 * size;
    }

    /** {@code text} cut (with an ellipsis) to fit {@code width} px. */
    static String fit(String text, double width, double size) {
        if (textWidth(text, size) <= width) {
            return text;
        }
        int chars = Math.max(1, (int) Math.floor(width / (0.62 * size)) - 1);
        return chars >= text.length() ? text : text.substring(0, chars) + "…";
    }

    /**
     * Vertical grouped bars: one group per label, one bar per series. {@code reference} draws a dashed horizontal
     * line (e.g. speedup 1×) when not null; {@code format} writes tick and value labels with their unit.
     */
    public static String bars(String id, String title, List<String> labels, List<Series> series,
                              DoubleFunction<String> format, Double reference) {
        return bars(id, title, labels, series, format, reference,
                series.size() < 2 ? List.of() : series.stream().map(s -> new Key(s.name(), s.color())).toList());
    }

    /** As above, with an explicit legend (empty: none). */
    public static String bars(String id, String title, List<String> labels, List<Series> series,
                              DoubleFunction<String> format, Double reference, List<Key> legend) {
        double min = 0;
        double max = reference == null ? 0 : reference;
        for (Series s : series) {
            for (Double v : s.values()) {
                if (v != null && Double.isFinite(v)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        double[] ticks = ticks(min, max);
        double lo = ticks[0];
        double hi = ticks[ticks.length - 1];
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = HEIGHT - TOP - BOTTOM;
        DoubleFunction<Double> y = v -> TOP + plotH * (hi - v) / (hi - lo);

        StringBuilder svg = open(id, title);
        for (double t : ticks) {
            double ty = y.apply(t);
            svg.append(String.format(Locale.ROOT, "<line class='grid' x1='%d' x2='%d' y1='%.1f' y2='%.1f'/>", LEFT,
                    WIDTH - RIGHT, ty, ty));
            svg.append(String.format(Locale.ROOT, "<text class='tick' x='%d' y='%.1f' text-anchor='end'>%s</text>",
                    LEFT - 6, ty + 4, esc(format.apply(t))));
        }
        int groups = Math.max(1, labels.size());
        double groupW = plotW / (double) groups;
        double barW = Math.max(2, Math.min(48, groupW * 0.8 / Math.max(1, series.size())));
        double zero = y.apply(0);
        for (int g = 0; g < labels.size(); g++) {
            double gx = LEFT + g * groupW + (groupW - barW * series.size()) / 2;
            for (int s = 0; s < series.size(); s++) {
                Double v = series.get(s).values().get(g);
                double value = v == null || !Double.isFinite(v) ? 0 : v;
                double vy = y.apply(value);
                // A zero bar is still drawn as a hairline, so "nothing" is visibly a measured zero, not a gap.
                double h = Math.max(1, Math.abs(zero - vy));
                double top = value >= 0 ? Math.min(vy, zero - 1) : zero;
                double x = gx + s * barW;
                svg.append(String.format(Locale.ROOT,
                        "<rect class='mark' x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'><title>%s · %s: %s</title></rect>",
                        x, top, barW - 1, h, series.get(s).colorOf(g), esc(labels.get(g)), esc(series.get(s).name()),
                        esc(v == null ? "n/a" : format.apply(value))));
                // a value label is written only where it fits above its own bar: wider, it would run over the
                // neighbouring bar of the group (or the next group); the bar's tooltip still carries the value
                String text = v == null ? "n/a" : format.apply(value);
                double room = series.size() == 1 ? groupW - 4 : barW;
                if (textWidth(text, VALUE_FONT) <= room) {
                    svg.append(String.format(Locale.ROOT, "<text class='value' x='%.1f' y='%.1f' text-anchor='middle'>%s</text>",
                            x + barW / 2, value >= 0 ? top - 3 : top + h + 11, esc(text)));
                }
            }
            String label = fit(labels.get(g), groupW - 4, LABEL_FONT);
            svg.append(String.format(Locale.ROOT,
                    "<text class='label' x='%.1f' y='%d' text-anchor='middle'>%s</text>", LEFT + (g + 0.5) * groupW,
                    HEIGHT - BOTTOM + 16, esc(label)));
        }
        svg.append(String.format(Locale.ROOT, "<line class='axis' x1='%d' x2='%d' y1='%.1f' y2='%.1f'/>", LEFT,
                WIDTH - RIGHT, zero, zero));
        if (reference != null) {
            double ry = y.apply(reference);
            svg.append(String.format(Locale.ROOT,
                    "<line class='reference' x1='%d' x2='%d' y1='%.1f' y2='%.1f'/><text class='tick' x='%d' y='%.1f' text-anchor='end'>%s</text>",
                    LEFT, WIDTH - RIGHT, ry, ry, WIDTH - RIGHT, ry - 4, esc(format.apply(reference))));
        }
        legend(svg, legend);
        return svg.append("</svg>").toString();
    }

    /** Horizontal bars, one per label, longest value first as given (for rankings such as the slowest tasks). */
    public static String horizontalBars(String id, String title, List<String> labels, List<Double> values,
                                        String color, DoubleFunction<String> format) {
        int rowH = 22;
        int left = 190;
        int height = TOP + Math.max(1, labels.size()) * rowH + 30;
        double max = values.stream().filter(v -> v != null && Double.isFinite(v)).mapToDouble(Double::doubleValue).max().orElse(0);
        double[] ticks = ticks(0, max);
        double hi = ticks[ticks.length - 1];
        int plotW = WIDTH - left - 70;
        StringBuilder svg = new StringBuilder(String.format(Locale.ROOT,
                "<svg class='chart' id='%s' xmlns='http://www.w3.org/2000/svg' viewBox='0 0 %d %d' width='%d' height='%d' role='img' aria-label='%s'>",
                id, WIDTH, height, WIDTH, height, esc(title)));
        svg.append(String.format(Locale.ROOT, "<text class='title' x='%d' y='18'>%s</text>", 8, esc(title)));
        for (double t : ticks) {
            double tx = left + plotW * t / hi;
            svg.append(String.format(Locale.ROOT, "<line class='grid' x1='%.1f' x2='%.1f' y1='%d' y2='%d'/>", tx, tx,
                    TOP, height - 26));
            svg.append(String.format(Locale.ROOT, "<text class='tick' x='%.1f' y='%d' text-anchor='middle'>%s</text>",
                    tx, height - 10, esc(format.apply(t))));
        }
        for (int i = 0; i < labels.size(); i++) {
            double v = values.get(i) == null || !Double.isFinite(values.get(i)) ? 0 : values.get(i);
            double w = Math.max(1, plotW * v / hi);
            int top = TOP + i * rowH + 3;
            svg.append(String.format(Locale.ROOT, "<text class='label' x='%d' y='%d' text-anchor='end'>%s</text>",
                    left - 6, top + 13, esc(labels.get(i))));
            svg.append(String.format(Locale.ROOT,
                    "<rect class='mark' x='%d' y='%d' width='%.1f' height='%d' fill='%s'><title>%s: %s</title></rect>",
                    left, top, w, rowH - 6, color, esc(labels.get(i)), esc(format.apply(v))));
            svg.append(String.format(Locale.ROOT, "<text class='value' x='%.1f' y='%d'>%s</text>", left + w + 4,
                    top + 13, esc(format.apply(v))));
        }
        return svg.append("</svg>").toString();
    }

    /** Tick values covering [min, max] (always including 0), at a step of 1, 2 or 5 × 10^n, about 5 intervals. */
    static double[] ticks(double min, double max) {
        if (!(max > min)) {
            max = min + 1;
        }
        double raw = (max - min) / 5;
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = magnitude * (raw <= magnitude ? 1 : raw <= 2 * magnitude ? 2 : raw <= 5 * magnitude ? 5 : 10);
        double start = Math.floor(min / step) * step;
        double end = Math.ceil(max / step) * step;
        int n = (int) Math.round((end - start) / step) + 1;
        // Rounded to the step's decimals (dividing by an exact power of ten) so labels read 0.6, not 0.6000000000000001.
        double scale = Math.pow(10, Math.max(0, (int) Math.ceil(-Math.log10(step)) + 1));
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            t[i] = Math.round((start + i * step) * scale) / scale;
        }
        return t;
    }

    private static StringBuilder open(String id, String title) {
        return new StringBuilder(String.format(Locale.ROOT,
                "<svg class='chart' id='%s' xmlns='http://www.w3.org/2000/svg' viewBox='0 0 %d %d' width='%d' height='%d' role='img' aria-label='%s'>"
                        + "<text class='title' x='8' y='18'>%s</text>",
                id, WIDTH, HEIGHT, WIDTH, HEIGHT, esc(title), esc(title)));
    }

    private static void legend(StringBuilder svg, List<Key> keys) {
        double x = LEFT;
        for (Key s : keys) {
            svg.append(String.format(Locale.ROOT, "<rect x='%.1f' y='%d' width='10' height='10' fill='%s'/>"
                    + "<text class='legend' x='%.1f' y='%d'>%s</text>", x, HEIGHT - 22, s.color(), x + 14, HEIGHT - 13,
                    esc(s.name())));
            x += 24 + 7 * s.name().length();
        }
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;").replace("\"", "&quot;");
    }
}
