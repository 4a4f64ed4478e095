package io.mtpspark.jobs.report;

import static io.mtpspark.jobs.report.SvgChart.esc;

import java.util.List;
import java.util.Locale;

/**
 * Renders a {@link ReportData} as one self-contained HTML page: inline CSS, charts as inline SVG
 * ({@link SvgChart}), tables, and no external reference of any kind, so the file opens offline from disk or an S3
 * download. A small inline script checks after load that every chart has drawn marks with finite coordinates and
 * records the outcome on {@code <body>} ({@code data-rendered="ok"} or {@code "failed"}, {@code data-errors},
 * {@code data-charts}); the browser test reads these back from the rendered DOM.
 */
public final class Dashboard {
    static final String ACTUAL = "#2563eb";
    static final String COUNTERFACTUAL = "#9ca3af";
    static final String SAVED = "#16a34a";
    static final String LOST = "#dc2626";
    static final String SPEEDUP = "#7c3aed";
    static final String SLOW = "#ea580c";

    private Dashboard() {
    }

    public static String render(ReportData d) {
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>")
                .append("<meta name='viewport' content='width=device-width, initial-scale=1'>")
                .append("<title>mtp-spark cost report</title><style>").append(CSS).append("</style>")
                // Registered first so errors anywhere later on the page are recorded for the self-check.
                .append("<script>window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message));});</script>")
                .append("</head><body data-rendered='pending'>");
        h.append("<header><h1>Bulk generation cost report</h1><p class='meta'>Generated ").append(esc(d.generatedAt()))
                .append(" from ").append(esc(String.join(", ", d.sources()))).append(" · ").append(d.runs().size())
                .append(" run(s) · prices v").append(d.prices().version()).append(" (as of ").append(esc(d.prices().asOf()))
                .append(", ").append(esc(d.prices().currency())).append(")</p></header>");
        kpis(h, d.total());
        h.append("<section class='charts'>");
        chart(h, costOverTime(d), "Actual task cost per day (booked on each run's start date, UTC) next to what "
                + "autoregressive decoding would have cost at the measured speedup.");
        chart(h, savings(d), "Counterfactual autoregressive cost minus actual cost, per run. Negative: MTP was slower.");
        chart(h, speedupByDomain(d), "Time-weighted measured speedup (run decoder tokens/s ÷ autoregressive tokens/s "
                + "at the same batch size on sampled rows; autoregressive runs are 1× by definition). Grey bars: "
                + "unmeasured, shown at the run's measured speedup.");
        chart(h, passDistribution(d), "MTP forward passes by tokens emitted per pass (accepted drafts + 1); "
                + "autoregressive passes are not counted.");
        chart(h, slowest(d), "Tasks that held their GPU or CPU slot longest.");
        h.append("</section>");
        table(h, "Per run", d.byRun(), true, false);
        table(h, "Per domain (all runs)", d.byDomain(), false, true);
        table(h, "Per run and domain", d.byRunDomain(), true, true);
        policyTable(h, d.policies());
        slowestTable(h, d.slowestTasks());
        runsTable(h, d);
        h.append("<section><h2>How the numbers are made</h2><ul class='notes'>")
                .append("<li>Cost = task seconds ÷ 3600 × the instance type's on-demand price per task slot "
                        + "(price ÷ GPUs per instance; one task owns one GPU). Task seconds are the committed tasks' "
                        + "wall time, shared among a run's domains by their rows' decode time.</li>")
                .append("<li>Counterfactual = task seconds × measured speedup: with MTP at s× the tokens/s of "
                        + "autoregressive decoding, autoregressive decoding would have needed s× the time. "
                        + "Savings = counterfactual − actual.</li>")
                .append("<li>Rows marked <span class='flag'>unmeasured</span> had no speedup sample: their "
                        + "counterfactual uses the speedup measured on the rest of their run (1× when the run measured "
                        + "none: no savings claimed). Autoregressive runs have speedup 1 and no savings.</li>")
                .append("<li>Prices: ").append(esc(d.prices().source())).append("</li></ul></section>");
        h.append("<script>").append(SELF_CHECK).append("</script></body></html>\n");
        return h.toString();
    }

    private static void kpis(StringBuilder h, CostLine t) {
        h.append("<section class='kpis'>");
        if (t == null) {
            h.append("<p>No rows.</p></section>");
            return;
        }
        kpi(h, "Generated tokens", String.format(Locale.ROOT, "%,d", t.generatedTokens()), t.rows() + " rows");
        kpi(h, "Task hours", hours(t.computeHours()), seconds(t.computeSeconds()) + " " + t.deviceKind() + " task time");
        kpi(h, "Cost", usd(t.costUsd()), perMillion(t.usdPerMillionTokens()) + " per 1M tokens");
        kpi(h, "Autoregressive would cost", usd(t.arCostUsd()), hours(t.arComputeHours()) + " task time");
        kpi(h, "Saved by MTP", usd(t.savingsUsd()), t.arCostUsd() <= 0 ? ""
                : t.savingsUsd() >= 0 ? String.format(Locale.ROOT, "%.1f%% of the counterfactual",
                100 * t.savingsUsd() / t.arCostUsd())
                : String.format(Locale.ROOT, "MTP cost %.2f× the autoregressive counterfactual",
                t.costUsd() / t.arCostUsd()));
        kpi(h, "Measured speedup", speedup(t.measuredSpeedup()), t.speedupAssumed() ? "some parts unmeasured" : "all parts measured");
        kpi(h, "Throughput", String.format(Locale.ROOT, "%.1f tok/s", t.tokensPerSecond()),
                String.format(Locale.ROOT, "%.2f tokens/pass", t.tokensPerPass()));
        kpi(h, "Error rate", String.format(Locale.ROOT, "%.2f%%", 100 * t.errorRate()), t.errors() + " error rows");
        h.append("</section>");
    }

    private static void kpi(StringBuilder h, String label, String value, String sub) {
        h.append("<div class='kpi'><div class='label'>").append(esc(label)).append("</div><div class='value'>")
                .append(esc(value)).append("</div><div class='sub'>").append(esc(sub)).append("</div></div>");
    }

    static String costOverTime(ReportData d) {
        List<String> days = d.byDay().stream().map(CostLine::day).toList();
        return SvgChart.bars("chart-cost", "Cost per day (USD)", days, List.of(
                new SvgChart.Series("actual", ACTUAL, d.byDay().stream().map(l -> (Double) l.costUsd()).toList()),
                new SvgChart.Series("autoregressive counterfactual", COUNTERFACTUAL,
                        d.byDay().stream().map(l -> (Double) l.arCostUsd()).toList())), Dashboard::usd, null);
    }

    static String savings(ReportData d) {
        List<String> colors = d.byRun().stream().map(l -> l.savingsUsd() < 0 ? LOST : SAVED).toList();
        List<SvgChart.Key> legend = d.byRun().stream().anyMatch(l -> l.savingsUsd() < 0)
                ? List.of(new SvgChart.Key("saved", SAVED), new SvgChart.Key("cost more than autoregressive", LOST))
                : List.of();
        return SvgChart.bars("chart-savings", "Savings per run (USD)", d.byRun().stream().map(CostLine::runId).toList(),
                List.of(new SvgChart.Series("saved", SAVED, d.byRun().stream().map(l -> (Double) l.savingsUsd()).toList(),
                        colors)), Dashboard::usd, null, legend);
    }

    static String speedupByDomain(ReportData d) {
        List<Double> speedups = d.byDomain().stream().map(l -> (Double) l.measuredSpeedup()).toList();
        List<String> colors = d.byDomain().stream().map(l -> l.speedupAssumed() ? COUNTERFACTUAL : SPEEDUP).toList();
        List<SvgChart.Key> legend = d.byDomain().stream().anyMatch(CostLine::speedupAssumed)
                ? List.of(new SvgChart.Key("measured", SPEEDUP), new SvgChart.Key("unmeasured (run's speedup)", COUNTERFACTUAL))
                : List.of();
        return SvgChart.bars("chart-speedup", "Measured speedup by domain (×)", d.byDomain().stream().map(CostLine::domain).toList(),
                List.of(new SvgChart.Series("speedup", SPEEDUP, speedups, colors)), Dashboard::speedup, 1.0, legend);
    }

    static String passDistribution(ReportData d) {
        return SvgChart.bars("chart-passes", "Tokens per forward pass (distribution of passes)",
                d.passDistribution().stream().map(b -> b.tokens() + " tok").toList(),
                List.of(new SvgChart.Series("passes", ACTUAL, d.passDistribution().stream().map(b -> (double) b.passes()).toList())),
                v -> String.format(Locale.ROOT, "%,.0f", v), null);
    }

    static String slowest(ReportData d) {
        List<TaskCost> top = d.slowestTasks().stream().limit(10).toList();
        double longest = top.stream().mapToDouble(t -> t.task().wallMs() / 1000).max().orElse(0);
        // One unit for the whole axis, so ticks fall on round minutes or hours rather than on 200 s steps.
        double unit = longest >= 7200 ? 3600 : longest >= 120 ? 60 : 1;
        String suffix = unit == 3600 ? " h" : unit == 60 ? " min" : " s";
        return SvgChart.horizontalBars("chart-slowest", "Slowest tasks (wall time)",
                top.stream().map(t -> t.task().runId() + " / p" + t.task().partitionId()).toList(),
                top.stream().map(t -> t.task().wallMs() / 1000 / unit).toList(), SLOW,
                v -> String.format(Locale.ROOT, v == Math.rint(v) ? "%.0f%s" : "%.1f%s", v, suffix));
    }

    private static void chart(StringBuilder h, String svg, String caption) {
        h.append("<figure>").append(svg).append("<figcaption>").append(esc(caption)).append("</figcaption></figure>");
    }

    private static void table(StringBuilder h, String title, List<CostLine> lines, boolean run, boolean domain) {
        h.append("<section><h2>").append(esc(title)).append("</h2><table><thead><tr>");
        if (run) {
            h.append("<th>day</th><th>run</th>");
        }
        if (domain) {
            h.append("<th>domain</th>");
        }
        h.append("<th>instance</th><th>rows</th><th>error rate</th><th>tokens</th><th>tokens/pass</th>")
                .append("<th>task time</th><th>tokens/s</th><th>speedup</th><th>cost</th><th>$ / 1M tokens</th>")
                .append("<th>AR task time</th><th>AR cost</th><th>saved</th></tr></thead><tbody>");
        for (CostLine l : lines) {
            h.append("<tr>");
            if (run) {
                cell(h, l.day());
                cell(h, l.runId());
            }
            if (domain) {
                cell(h, l.domain());
            }
            cell(h, l.instanceType());
            num(h, String.format(Locale.ROOT, "%,d", l.rows()));
            num(h, String.format(Locale.ROOT, "%.2f%%", 100 * l.errorRate()));
            num(h, String.format(Locale.ROOT, "%,d", l.generatedTokens()));
            num(h, String.format(Locale.ROOT, "%.2f", l.tokensPerPass()));
            num(h, seconds(l.computeSeconds()));
            num(h, String.format(Locale.ROOT, "%.1f", l.tokensPerSecond()));
            h.append("<td class='num'>").append(esc(speedup(l.measuredSpeedup())))
                    .append(l.speedupAssumed() ? " <span class='flag'>unmeasured</span>" : "").append("</td>");
            num(h, usd(l.costUsd()));
            num(h, perMillion(l.usdPerMillionTokens()));
            num(h, seconds(l.arComputeSeconds()));
            num(h, usd(l.arCostUsd()));
            num(h, usd(l.savingsUsd()));
            h.append("</tr>");
        }
        h.append("</tbody></table></section>");
    }

    private static void slowestTable(StringBuilder h, List<TaskCost> tasks) {
        h.append("<section><h2>Slowest tasks</h2><table><thead><tr><th>run</th><th>partition</th><th>attempt</th>")
                .append("<th>executor</th><th>device</th><th>rows</th><th>failed</th><th>tokens</th><th>wall</th>")
                .append("<th>tokens/s</th><th>speedup</th><th>cost</th></tr></thead><tbody>");
        for (TaskCost c : tasks) {
            TaskUsage t = c.task();
            h.append("<tr>");
            cell(h, t.runId());
            num(h, Integer.toString(t.partitionId()));
            num(h, Integer.toString(t.attempt()));
            cell(h, t.executorId() + (t.host() == null ? "" : " @ " + t.host()));
            cell(h, t.device());
            num(h, Long.toString(t.rows()));
            num(h, Long.toString(t.failedRows()));
            num(h, String.format(Locale.ROOT, "%,d", t.generatedTokens()));
            num(h, seconds(t.wallMs() / 1000));
            num(h, String.format(Locale.ROOT, "%.1f", t.tokensPerSecond()));
            num(h, t.measuredSpeedup() == null ? "n/a" : speedup(t.measuredSpeedup()));
            num(h, usd(c.costUsd()));
            h.append("</tr>");
        }
        h.append("</tbody></table></section>");
    }

    /** What --decoder auto chose per run: the steps' shares by configuration, predicted vs measured, the reason. */
    private static void policyTable(StringBuilder h, List<RunPolicy> policies) {
        if (policies.isEmpty()) {
            return;
        }
        h.append("<section><h2>What <code>--decoder auto</code> chose</h2><table class='policy'><thead><tr>")
                .append("<th>run</th><th>steps</th><th>configurations (share of steps)</th>")
                .append("<th>forward tokens/s predicted</th><th>measured</th><th>why (the largest task)</th>")
                .append("</tr></thead><tbody>");
        for (RunPolicy p : policies) {
            StringBuilder shares = new StringBuilder();
            p.steps().entrySet().stream()
                    .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                    .forEach(e -> shares.append(shares.length() == 0 ? "" : " · ").append(e.getKey()).append(' ')
                            .append(String.format(Locale.ROOT, "%.0f%%", 100 * p.share(e.getKey()))));
            h.append("<tr>");
            cell(h, p.runId());
            num(h, String.format(Locale.ROOT, "%,d", p.totalSteps()));
            cell(h, shares.toString());
            num(h, p.predictedTokensPerSecond() == null ? "n/a"
                    : String.format(Locale.ROOT, "%,.0f", p.predictedTokensPerSecond()));
            num(h, p.measuredTokensPerSecond() == null ? "n/a"
                    : String.format(Locale.ROOT, "%,.0f", p.measuredTokensPerSecond()));
            cell(h, p.reason());
            h.append("</tr>");
        }
        h.append("</tbody></table></section>");
    }

    private static void runsTable(StringBuilder h, ReportData d) {
        h.append("<section><h2>Runs and prices</h2><table><thead><tr><th>run</th><th>started</th><th>day</th>")
                .append("<th>instance type</th><th>from</th><th>$ / instance-hour</th><th>tasks per instance</th>")
                .append("<th>kind</th></tr></thead><tbody>");
        for (RunInfo r : d.runs()) {
            PriceTable.InstancePrice p = d.prices().priceOf(r.instanceType());
            h.append("<tr>");
            cell(h, r.runId());
            cell(h, r.startedAt() == null ? "(no manifest)" : r.startedAt());
            cell(h, r.day());
            cell(h, r.instanceType());
            cell(h, r.instanceTypeSource());
            num(h, String.format(Locale.ROOT, "$%.4f", p.usdPerHour()));
            num(h, Integer.toString(p.slots()));
            cell(h, p.kind() + (p.note().isEmpty() ? "" : " · " + p.note()));
            h.append("</tr>");
        }
        h.append("</tbody></table></section>");
    }

    private static void cell(StringBuilder h, String s) {
        h.append("<td>").append(esc(s == null ? "" : s)).append("</td>");
    }

    private static void num(StringBuilder h, String s) {
        h.append("<td class='num'>").append(esc(s)).append("</td>");
    }

    /** Dollars with enough significant digits for the cents-and-below amounts of small runs. */
    /** Money as money: whole dollars from $100, cents from $1, else three significant digits, never an exponent. */
    static String usd(double v) {
        double a = Math.abs(v);
        if (a < 1e-9) {
            return "$0"; // no "-$0.000000" for a saving that is zero up to rounding
        }
        String body = a >= 100 ? String.format(Locale.ROOT, "%,.0f", a)
                : a >= 1 ? String.format(Locale.ROOT, "%.2f", a)
                : new java.math.BigDecimal(a).round(new java.math.MathContext(3)).stripTrailingZeros().toPlainString();
        return (v < 0 ? "-$" : "$") + body;
    }

    static String perMillion(Double v) {
        return v == null ? "n/a" : usd(v);
    }

    static String seconds(double s) {
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%.2f h", s / 3600);
        }
        return s >= 60 ? String.format(Locale.ROOT, "%.1f min", s / 60) : String.format(Locale.ROOT, "%.2f s", s);
    }

    static String hours(double h) {
        return String.format(Locale.ROOT, h >= 1 ? "%.2f h" : "%.4f h", h);
    }

    static String speedup(double s) {
        return String.format(Locale.ROOT, "%.2f×", s);
    }

    private static final String CSS = String.join("\n",
            "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;color:#111827;background:#f9fafb}",
            "h1{margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}.meta{color:#6b7280;margin:0}",
            ".kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin:20px 0}",
            ".kpi{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px}",
            ".kpi .label{color:#6b7280;font-size:13px}.kpi .value{font-size:24px;font-weight:600;margin:4px 0}",
            ".kpi .sub{color:#6b7280;font-size:12px}",
            ".charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}",
            "figure{margin:0;background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:8px}",
            "figcaption{color:#6b7280;font-size:12px;padding:4px 8px}svg.chart{width:100%;height:auto}",
            "svg .title{font-weight:600;font-size:14px}svg .tick,svg .label,svg .legend{font-size:11px;fill:#4b5563}",
            "svg .value{font-size:10px;fill:#111827}svg .grid{stroke:#e5e7eb}svg .axis{stroke:#374151}",
            "svg .reference{stroke:#dc2626;stroke-dasharray:4 3}",
            "table{border-collapse:collapse;background:#fff;font-size:13px;width:100%}",
            "th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left}th{background:#f3f4f6}",
            "td.num{text-align:right;font-variant-numeric:tabular-nums}",
            ".flag{background:#fef3c7;color:#92400e;border-radius:4px;padding:0 4px;font-size:11px}",
            ".notes{font-size:13px;color:#374151}");

    /** Marks: present, at finite coordinates, inside a laid-out chart. Writes the verdict onto body. */
    private static final String SELF_CHECK = String.join("\n",
            "(function(){",
            "  function check(){",
            "    var errors=window.__errors.slice();",
            "    var charts=document.querySelectorAll('svg.chart');",
            "    if(charts.length===0){errors.push('no charts');}",
            "    var marks=0;",
            "    charts.forEach(function(svg){",
            "      var box=svg.getBoundingClientRect();",
            "      if(!(box.width>0&&box.height>0)){errors.push(svg.id+': not laid out');}",
            "      var m=svg.querySelectorAll('.mark');",
            "      if(m.length===0){errors.push(svg.id+': no marks');}",
            "      m.forEach(function(el){",
            "        ['x','y','width','height'].forEach(function(a){",
            "          var v=el.getAttribute(a);",
            "          if(v!==null&&!isFinite(parseFloat(v))){errors.push(svg.id+': '+a+'='+v);}",
            "        });",
            "      });",
            "      marks+=m.length;",
            "    });",
            "    document.body.setAttribute('data-charts',String(charts.length));",
            "    document.body.setAttribute('data-marks',String(marks));",
            "    document.body.setAttribute('data-errors',errors.join('; '));",
            "    document.body.setAttribute('data-rendered',errors.length?'failed':'ok');",
            "  }",
            "  if(document.readyState==='loading'){document.addEventListener('DOMContentLoaded',check);}else{check();}",
            "})();");
}
