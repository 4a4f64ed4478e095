package io.mtpspark.jobs.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A small multi-day, multi-domain report built without Spark, for the dashboard tests. */
final class ReportFixtures {
    private ReportFixtures() {
    }

    static ReportData threeRuns() {
        PriceTable prices = PriceTable.shipped();
        Map<String, RunInfo> runs = new LinkedHashMap<>();
        runs.put("2026-11-24-a", RunInfo.resolve("2026-11-24-a", "{\"started_at\":\"2026-11-24T02:00:00Z\"}",
                Optional.of("g5.xlarge"), "local-cpu"));
        runs.put("2026-11-25-b", RunInfo.resolve("2026-11-25-b", "{\"started_at\":\"2026-11-25T02:00:00Z\","
                + "\"options\":{\"instance-type\":\"p5.48xlarge\"}}", Optional.empty(), "local-cpu"));
        runs.put("demo", RunInfo.resolve("demo", null, Optional.empty(), "local-cpu"));
        String[] domains = {"animals", "family", "play", "school", "weather"};
        List<DomainUsage> usage = new ArrayList<>();
        for (String run : runs.keySet()) {
            for (int i = 0; i < domains.length; i++) {
                double speedup = 1.6 + 0.25 * i;
                boolean sampled = !(run.equals("demo") && i == 4);
                usage.add(new DomainUsage(run, domains[i], 400 + 37 * i, i, 50_000 + 9_000 * i, 20_000 + 2_000 * i,
                        900_000 + 120_000 * i, sampled ? 20 : 0, sampled ? 2_000 : 0, sampled ? 10_000 : 0,
                        sampled ? 2_000 : 0, sampled ? 10_000 * speedup : 0));
            }
        }
        Map<String, Double> taskSeconds = Map.of("2026-11-24-a", 7_000.0, "2026-11-25-b", 5_200.0, "demo", 900.0);
        List<TaskUsage> tasks = new ArrayList<>();
        for (int p = 0; p < 12; p++) {
            tasks.add(new TaskUsage(p % 2 == 0 ? "2026-11-24-a" : "2026-11-25-b", p, p % 3 == 0 ? 1 : 0, "exec-" + p,
                    "ip-10-0-0-" + p, "gpu " + (p % 8), 8, 150, p % 4, 20_000, 9_000,
                    new long[] {900, 700, 500, 350, 250, 150, 80, 40, 20}, 300_000 + 45_000 * p, 1.5 + 0.1 * p));
        }
        // the demo run decoded with --decoder auto: two tasks with the policy's steps
        tasks.add(new TaskUsage("demo", 0, 0, "driver", "localhost", null, 8, 105, 0, 13_440, 13_000,
                new long[] {60, 30, 10}, 9_000, 0.97, "{\"steps\":{\"autoregressive\":900,\"linear k=1\":"
                + "100},\"reason\":\"autoregressive at 16 sequences: predicted 6,004 tokens/s\"}", 6_004.0,
                5_800.0));
        tasks.add(new TaskUsage("demo", 1, 0, "driver", "localhost", null, 8, 105, 0, 13_440, 13_400,
                new long[0], 8_800, 1.0, "{\"steps\":{\"autoregressive\":840},\"reason\":\"short\"}",
                5_900.0, null));
        CostModel model = new CostModel(prices);
        return ReportData.of("2026-11-26T18:00:00Z", List.of("s3a://bucket/runs/", "out/demo"), prices,
                List.copyOf(runs.values()), model.byRunDomain(usage, taskSeconds, runs), model.slowest(tasks, runs, 15),
                CostModel.passDistribution(tasks), RunPolicy.of(tasks));
    }
}
