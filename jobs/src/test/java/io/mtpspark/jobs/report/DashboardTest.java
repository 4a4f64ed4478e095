package io.mtpspark.jobs.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The dashboard's HTML without a browser: self-contained, all charts present, numbers with units. */
class DashboardTest {
    @Test
    void theDashboardIsOneSelfContainedPageWithFiveCharts() {
        String html = Dashboard.render(ReportFixtures.threeRuns());
        for (String id : List.of("chart-cost", "chart-savings", "chart-speedup", "chart-passes", "chart-slowest")) {
            assertTrue(html.contains("<svg class='chart' id='" + id + "'"), id);
        }
        // Nothing fetched at view time: no external scripts, styles, images or fonts.
        assertFalse(Pattern.compile("(src|href)\\s*=", Pattern.CASE_INSENSITIVE).matcher(html).find(), "no src/href");
        // (URLs may appear as text, e.g. where the prices come from; nothing may load them.)
        for (String loader : List.of("url(", "@import", "<link", "<img", "<iframe", "<object", "fetch(", "XMLHttpRequest")) {
            assertFalse(html.contains(loader), loader);
        }
        assertFalse(html.contains("NaN") || html.contains("Infinity"), "every coordinate is finite");
        assertTrue(html.contains("unmeasured"), "the domain without a sample is flagged");
        assertTrue(html.contains(" h<") || html.contains(" min<"), "durations carry units");
    }

    @Test
    void everyChartDrawsOneMarkPerDatum() {
        ReportData d = ReportFixtures.threeRuns();
        assertEquals(d.byDay().size() * 2, marks(Dashboard.costOverTime(d)));
        assertEquals(d.byRun().size(), marks(Dashboard.savings(d)));
        String speedup = Dashboard.speedupByDomain(d);
        assertEquals(d.byDomain().size(), marks(speedup));
        assertEquals(1, speedup.split("fill='" + Dashboard.COUNTERFACTUAL + "'><title>", -1).length - 1,
                "one domain (weather) is partly unsampled and drawn grey");
        assertEquals(d.passDistribution().size(), marks(Dashboard.passDistribution(d)));
        assertEquals(10, marks(Dashboard.slowest(d)));
    }

    @Test
    void aRunWhereMtpWasSlowerShowsRedNegativeSavings() {
        PriceTable prices = PriceTable.shipped();
        RunInfo run = RunInfo.resolve("slow", null, java.util.Optional.of("g5.xlarge"), "local-cpu");
        DomainUsage usage = new DomainUsage("slow", "d", 10, 0, 1000, 1000, 1000, 1, 100, 2000, 100, 1000);
        ReportData d = ReportData.of("now", List.of("x"), prices, List.of(run),
                new CostModel(prices).byRunDomain(List.of(usage), java.util.Map.of("slow", 3600.0), java.util.Map.of("slow", run)),
                List.of(), List.of(), List.of());
        assertTrue(d.total().savingsUsd() < 0);
        String svg = Dashboard.savings(d);
        assertTrue(svg.contains("fill='" + Dashboard.LOST + "'><title>"), svg);
        assertTrue(svg.contains("-$0.503"), "0.5x speedup on a $1.006 task-hour: -$0.503; " + svg);
    }

    @Test
    void textIsEscaped() {
        assertEquals("&lt;b&gt; &amp; &#39;x&#39;", SvgChart.esc("<b> & 'x'"));
    }

    @Test
    void ticksAreRoundAndCoverTheRange() {
        assertEquals(List.of(0.0, 0.5, 1.0, 1.5, 2.0, 2.5), boxed(SvgChart.ticks(0, 2.3)));
        assertEquals(List.of(-5.0, 0.0, 5.0, 10.0), boxed(SvgChart.ticks(-1, 9.5)));
        assertEquals(List.of(0.0, 0.2, 0.4, 0.6, 0.8, 1.0), boxed(SvgChart.ticks(0, 0)));
    }

    @Test
    void dollarsKeepSignificantDigitsForSmallAmounts() {
        assertEquals("$0.000417", Dashboard.usd(0.000417));
        assertEquals("$1.50", Dashboard.usd(1.5));
        assertEquals("-$2.25", Dashboard.usd(-2.25));
        assertEquals("$1,235", Dashboard.usd(1234.6));
        assertEquals("$0.0000335", Dashboard.usd(3.35e-05), "no scientific notation");
        assertEquals("$0", Dashboard.usd(-1e-12), "no -$0.000000");
    }

    private static int marks(String svg) {
        Matcher m = Pattern.compile("class='mark'").matcher(svg);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private static List<Double> boxed(double[] v) {
        return java.util.Arrays.stream(v).boxed().toList();
    }

    /**
     * No value or axis label runs over a bar or another label: checked on every chart of the fixture and on a
     * crowded one (8 groups × 2 series with long dollar values and long domain names), with the same width
     * estimate the charts use.
     */
    @Test
    void labelsOverlapNeitherBarsNorEachOther() {
        ReportData d = ReportFixtures.threeRuns();
        List<String> charts = new java.util.ArrayList<>(List.of(Dashboard.costOverTime(d), Dashboard.savings(d),
                Dashboard.speedupByDomain(d), Dashboard.passDistribution(d), Dashboard.slowest(d)));
        List<String> names = new java.util.ArrayList<>();
        for (int g = 0; g < 8; g++) {
            names.add("a-rather-long-domain-name-" + g);
        }
        charts.add(SvgChart.bars("crowded", "crowded", names, List.of(
                new SvgChart.Series("actual", "#111", List.of(12345.6, 2.0, 999.0, 15000.0, 7.0, 14000.0, 1.0, 9000.0)),
                new SvgChart.Series("autoregressive", "#222", List.of(15000.0, 14000.0, 3.0, 12000.0, 14500.0, 1.0,
                        13000.0, 12.0))), v -> String.format(java.util.Locale.ROOT, "$%,.2f", v), null));
        for (String svg : charts) {
            List<double[]> bars = new java.util.ArrayList<>();
            Matcher r = Pattern.compile("<rect class='mark' x='([-0-9.]+)' y='([-0-9.]+)' width='([-0-9.]+)' "
                    + "height='([-0-9.]+)'").matcher(svg);
            while (r.find()) {
                bars.add(new double[]{dbl(r, 1), dbl(r, 2), dbl(r, 1) + dbl(r, 3), dbl(r, 2) + dbl(r, 4)});
            }
            List<double[]> texts = new java.util.ArrayList<>();
            Matcher t = Pattern.compile("<text class='(value|label)' x='([-0-9.]+)' y='([-0-9.]+)'"
                    + "(?: text-anchor='(middle|end)')?>([^<]*)</text>").matcher(svg);
            while (t.find()) {
                double size = t.group(1).equals("value") ? SvgChart.VALUE_FONT : SvgChart.LABEL_FONT;
                String text = t.group(5).replace("&amp;", "&").replace("&#39;", "'");
                double w = SvgChart.textWidth(text, size);
                double x = dbl(t, 2);
                double left = "middle".equals(t.group(4)) ? x - w / 2 : "end".equals(t.group(4)) ? x - w : x;
                double y = dbl(t, 3);
                double[] box = {left, y - size * 0.8, left + w, y};
                for (double[] b : bars) {
                    assertFalse(intersects(box, b), "label '" + text + "' over a bar in " + svg);
                }
                for (double[] other : texts) {
                    assertFalse(intersects(box, other), "label '" + text + "' over another label in " + svg);
                }
                texts.add(box);
            }
            assertTrue(!texts.isEmpty(), "labels were drawn");
        }
    }

    private static double dbl(Matcher m, int group) {
        return Double.parseDouble(m.group(group));
    }

    private static boolean intersects(double[] a, double[] b) {
        return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
    }
}
