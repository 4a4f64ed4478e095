package io.mtpspark.terraform;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Runs every rule over the real terraform/ tree; each test fails with the list of violations. */
class TerraformTreeTest {

  private static TfTree tree;

  @BeforeAll
  static void parseAll() {
    tree = TfTree.load(Hcl.terraformDir());
  }

  private static void assertNone(String rule, List<String> violations) {
    if (!violations.isEmpty()) {
      fail(rule + ": " + violations.size() + " violation(s):\n  " + String.join("\n  ", violations));
    }
  }

  @Test
  void treeHasTheRootAndChildModules() {
    Path dir = Hcl.terraformDir();
    Set<String> files = tree.parsed.keySet().stream()
        .map(p -> dir.relativize(p).toString().replace('\\', '/')).collect(Collectors.toSet());
    for (String f : List.of("versions.tf", "variables.tf", "main.tf", "outputs.tf",
        "modules/storage/main.tf", "modules/iam/main.tf", "modules/network/main.tf", "modules/emr/main.tf",
        "modules/orchestration/main.tf")) {
      assertTrue(files.contains(f), "missing " + f + " in " + files);
    }
    assertFalse(files.stream().anyMatch(f -> f.contains("node_modules/") || f.startsWith("target/")));
  }

  @Test
  void everyTfFileParsesWithHashiCorpsParser() {
    assertNone("HCL syntax", Checks.parseErrors(tree));
  }

  @Test
  void layoutIsTerraformFmtStyle() {
    assertNone("terraform fmt layout", Checks.layout(tree));
  }

  @Test
  void everyVariableAndOutputIsDescribedAndTyped() {
    assertNone("variables/outputs", Checks.variablesDescribedAndTyped(tree));
  }

  @Test
  void everyTaggableResourceIsTagged() {
    assertNone("tags", Checks.tagged(tree));
  }

  @Test
  void bucketsAreEncryptedVersionedPrivateTlsOnlyAndExpire() {
    assertFalse(tree.resources("aws_s3_bucket").isEmpty(), "no aws_s3_bucket found");
    assertNone("S3", Checks.bucketsLockedDown(tree));
  }

  @Test
  void policiesAreCheckableDocumentsWithoutWildcardGrants() {
    assertNone("policy form", Checks.policiesAreDocuments(tree));
    assertNone("IAM wildcards", Checks.noWildcardGrants(tree));
  }

  @Test
  void noSecurityGroupAcceptsTrafficFromTheInternet() {
    assertFalse(tree.resources("aws_security_group").isEmpty(), "no security group found");
    assertNone("ingress", Checks.noOpenIngress(tree));
  }

  @Test
  void keysRotateAndTopicsAndLogsAreEncrypted() {
    assertNone("encryption", Checks.otherEncryption(tree));
  }

  @Test
  void noSecretsInVariablesOrFiles() {
    assertNone("secrets", Checks.noSecretVariables(tree));
  }

  @Test
  void rootVariablesCarryValidation() {
    Set<String> mustValidate = Set.of("name_prefix", "bucket_layout", "gpu_instance_type", "emr_release_label",
        "spark_runtime", "schedule_expression", "private_subnet_ids", "task_market", "decoder", "backend",
        "batch_size");
    Path root = Hcl.terraformDir().resolve("variables.tf");
    List<String> missing = new ArrayList<>();
    for (TfTree.Block v : tree.named("variable")) {
      if (v.file().equals(root) && mustValidate.contains(v.name()) && TfTree.blocks(v.body(), "validation").isEmpty()) {
        missing.add(v.name());
      }
    }
    Set<String> declared = tree.named("variable").stream().filter(v -> v.file().equals(root))
        .map(TfTree.Block::name).collect(Collectors.toSet());
    for (String name : mustValidate) {
      assertTrue(declared.contains(name), "root variable " + name + " is missing");
    }
    assertEquals(List.of(), missing, "root variables without a validation block");
  }

  /** The run contract (job classes, arguments, GPU scheduling) must reach the cluster and the steps. */
  @Test
  void stateMachineAndClusterCarryTheJobContractAndGpuScheduling() throws IOException {
    Path dir = Hcl.terraformDir();
    StringBuilder all = new StringBuilder();
    for (Path p : TfTree.filesEndingWith(dir, "")) {
      if (p.toString().endsWith(".tf") || p.toString().endsWith(".sh")) {
        all.append(Files.readString(p)).append('\n');
      }
    }
    String text = all.toString();
    List<String> missing = new ArrayList<>();
    for (String s : List.of(
        "io.mtpspark.jobs.GenerateJob", "io.mtpspark.jobs.ReportJob", "mtp-jobs-assembly.jar",
        "--input", "--output", "--run-id", "--model", "--adapter", "--decoder", "--k", "--backend",
        "--batch-size", "--runs", "--out", "reports/",
        "spark.executor.resource.gpu.amount=1", "spark.task.resource.gpu.amount=1",
        "spark.executor.resource.gpu.discoveryScript=", "spark.dynamicAllocation.enabled=false",
        "\"yarn.io/gpu\"", "yarn.nodemanager.resource-plugins", "LinuxContainerExecutor",
        "DominantResourceCalculator", "nvidia-smi --query-gpu=index --format=csv,noheader",
        "\"name\":\"gpu\"", "JAVA_HOME", "spark.executor.extraJavaOptions=", "--add-modules=jdk.incubator.vector",
        "-XX:Tier3DelayOn=100000",
        "elasticmapreduce:createCluster.sync", "elasticmapreduce:addStep.sync",
        "elasticmapreduce:terminateCluster.sync", "sns:publish", "AutoTerminationPolicy", "LogUri",
        "SPOT")) {
      if (!text.contains(s)) {
        missing.add(s);
      }
    }
    assertEquals(List.of(), missing, "strings of the run contract not found in the .tf and .sh files");
    assertFalse(tree.resources("aws_sfn_state_machine").isEmpty(), "no state machine");
    assertFalse(tree.resources("aws_scheduler_schedule").isEmpty(), "no EventBridge Scheduler schedule");
  }
}
