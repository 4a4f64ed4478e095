package io.mtpspark.terraform;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The state machine definition (an HCL object in modules/orchestration/main.tf, jsonencoded by Terraform) is checked
 * as a graph: every transition lands on a state, every state is reachable, every step after the cluster exists
 * terminates the cluster on failure, and failures reach SNS.
 */
class StateMachineTest {

  private static JsonNode locals;
  private static JsonNode states;

  @BeforeAll
  static void load() {
    Path file = Hcl.terraformDir().resolve("modules/orchestration/main.tf");
    Hcl.Parsed p = Hcl.parse(List.of(file)).get(file);
    assertTrue(p.ok(), () -> p.error());
    locals = p.json().path("locals").get(0);
    states = locals.path("definition").path("States");
    assertTrue(states.isObject() && states.size() > 0, "no States in local.definition");
  }

  private static List<JsonNode> catches(JsonNode state) {
    JsonNode c = state.path("Catch");
    if (c.isTextual() && c.asText().equals("${local.catch_all}")) {
      c = locals.path("catch_all");
    }
    List<JsonNode> out = new ArrayList<>();
    c.forEach(out::add);
    return out;
  }

  private static List<String> successors(JsonNode state) {
    List<String> out = new ArrayList<>();
    if (state.has("Next")) {
      out.add(state.get("Next").asText());
    }
    if (state.has("Default")) {
      out.add(state.get("Default").asText());
    }
    state.path("Choices").forEach(c -> out.add(c.path("Next").asText()));
    catches(state).forEach(c -> out.add(c.path("Next").asText()));
    return out;
  }

  @Test
  void transitionsLandOnStatesAndEveryStateIsReachable() {
    String start = locals.path("definition").path("StartAt").asText();
    assertTrue(states.has(start), "StartAt " + start + " is not a state");
    for (Iterator<Map.Entry<String, JsonNode>> it = states.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      for (String next : successors(e.getValue())) {
        assertTrue(states.has(next), e.getKey() + " goes to unknown state " + next);
      }
      String type = e.getValue().path("Type").asText();
      boolean terminal = type.equals("Fail") || type.equals("Succeed") || e.getValue().path("End").asBoolean(false);
      assertTrue(terminal || !successors(e.getValue()).isEmpty(), e.getKey() + " has no way out");
    }
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(start));
    while (!todo.isEmpty()) {
      String s = todo.pop();
      if (seen.add(s)) {
        todo.addAll(successors(states.get(s)));
      }
    }
    List<String> unreachable = new ArrayList<>();
    states.fieldNames().forEachRemaining(n -> {
      if (!seen.contains(n)) {
        unreachable.add(n);
      }
    });
    assertEquals(List.of(), unreachable, "unreachable states");
  }

  @Test
  void happyPathCreatesGeneratesReportsTerminates() {
    List<String> resources = new ArrayList<>();
    String s = "CreateCluster";
    while (true) {
      JsonNode st = states.get(s);
      resources.add(st.path("Resource").asText().replaceAll("^arn:\\$\\{local.partition}:states:::", ""));
      if (st.path("End").asBoolean(false)) {
        break;
      }
      s = st.path("Next").asText();
    }
    assertEquals(List.of("elasticmapreduce:createCluster.sync", "elasticmapreduce:addStep.sync",
        "elasticmapreduce:addStep.sync", "elasticmapreduce:terminateCluster.sync"), resources);
    assertEquals("GenerateJob", states.at("/GenerateStep/Parameters/Step/Name").asText());
    assertEquals("ReportJob", states.at("/ReportStep/Parameters/Step/Name").asText());
  }

  @Test
  void everyFailureAfterTheClusterExistsTerminatesItAndNotifies() {
    for (String name : List.of("GenerateStep", "ReportStep")) {
      List<JsonNode> c = catches(states.get(name));
      assertFalse(c.isEmpty(), name + " has no Catch");
      assertEquals("States.ALL", c.get(0).path("ErrorEquals").get(0).asText());
      assertEquals("TerminateAfterFailure", c.get(0).path("Next").asText(), name);
    }
    assertEquals("NotifyFailure", catches(states.get("CreateCluster")).get(0).path("Next").asText());
    assertEquals("NotifyFailure", states.at("/TerminateAfterFailure/Next").asText());
    assertEquals("NotifyFailure", catches(states.get("TerminateAfterFailure")).get(0).path("Next").asText());
    assertTrue(states.at("/NotifyFailure/Resource").asText().endsWith(":states:::sns:publish"));
    assertEquals("Failed", states.at("/NotifyFailure/Next").asText());
    assertEquals("Fail", states.at("/Failed/Type").asText());
  }

  @Test
  void stepArgumentsFollowTheJobContract() {
    List<String> gen = TfTree.strings(locals.path("generate_items"));
    String g = String.join(" ", gen);
    assertTrue(g.contains("'io.mtpspark.jobs.GenerateJob'"), g);
    for (String flag : List.of("--input", "--output", "--run-id", "--model", "--decoder", "--k", "--backend",
        "--batch-size", "--instance-type")) {
      assertTrue(g.contains("'" + flag + "'"), "GenerateJob args lack " + flag + ": " + g);
    }
    assertTrue(g.contains("States.Format('${local.inputs_s3a}{}/', $.run.date)"), "input prefix by date: " + g);
    assertTrue(g.contains("$.run.run_id"), g);
    String r = String.join(" ", TfTree.strings(locals.path("report_items")));
    assertTrue(r.contains("'io.mtpspark.jobs.ReportJob'") && r.contains("'--runs'") && r.contains("'--out'")
        && r.contains("reports/'"), r);
    assertTrue(locals.path("inputs_s3a").asText().startsWith("s3a://"));
    assertTrue(locals.path("outputs_s3a").asText().startsWith("s3a://"));
  }
}
