package io.mtpspark.terraform;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Security and hygiene rules over parsed Terraform. Each rule returns human-readable violations that name the file
 * and the resource (empty list: rule holds). The rules are deliberately conservative: they accept only the patterns
 * this repository uses (policies written as aws_iam_policy_document data sources, bucket settings as separate
 * aws_s3_bucket_* resources that reference the bucket resource).
 */
final class Checks {

  private Checks() {
  }

  /** Resource types that take no {@code tags} argument in the AWS provider (v5/v6). Everything else must be tagged. */
  static final Set<String> UNTAGGABLE = Set.of(
      "aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration",
      "aws_s3_bucket_public_access_block", "aws_s3_bucket_policy", "aws_s3_bucket_lifecycle_configuration",
      "aws_s3_bucket_ownership_controls", "aws_s3_bucket_logging", "aws_s3_bucket_notification",
      "aws_kms_alias", "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_ec2_tag",
      "aws_emr_security_configuration", "aws_emr_block_public_access_configuration", "aws_scheduler_schedule",
      "aws_sns_topic_policy", "aws_sns_topic_subscription", "aws_security_group_rule",
      "aws_cloudwatch_log_resource_policy", "aws_kms_key_policy", "terraform_data", "null_resource");

  /** AWS managed policies far broader than this deployment needs (s3:* on *, admin). */
  static final Set<String> FORBIDDEN_MANAGED_POLICIES = Set.of(
      "arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/PowerUserAccess",
      "arn:aws:iam::aws:policy/AmazonS3FullAccess",
      "arn:aws:iam::aws:policy/service-role/AmazonElasticMapReduceforEC2Role",
      "arn:aws:iam::aws:policy/service-role/AmazonElasticMapReduceRole",
      "arn:aws:iam::aws:policy/AmazonElasticMapReduceFullAccess",
      "arn:aws:iam::aws:policy/AmazonEMRFullAccessPolicy_v2");

  static final Set<String> OPEN_CIDRS = Set.of("0.0.0.0/0", "::/0");

  static List<String> parseErrors(TfTree tree) {
    List<String> out = new ArrayList<>();
    for (Hcl.Parsed p : tree.parsed.values()) {
      if (!p.ok()) {
        out.add(p.file() + ": HCL syntax error: " + p.error());
      }
    }
    return out;
  }

  static List<String> layout(TfTree tree) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<Path, String> e : tree.text.entrySet()) {
      out.addAll(Layout.check(e.getKey().toString(), e.getValue()));
    }
    return out;
  }

  static List<String> variablesDescribedAndTyped(TfTree tree) {
    List<String> out = new ArrayList<>();
    for (TfTree.Block v : tree.named("variable")) {
      String d = v.body().path("description").asText("");
      if (d.isBlank()) {
        out.add(v.where() + " has no description");
      }
      if (v.body().path("type").isMissingNode()) {
        out.add(v.where() + " has no type");
      }
      for (JsonNode val : TfTree.blocks(v.body(), "validation")) {
        if (val.path("error_message").asText("").isBlank()) {
          out.add(v.where() + " has a validation without error_message");
        }
      }
    }
    for (TfTree.Block o : tree.named("output")) {
      if (o.body().path("description").asText("").isBlank()) {
        out.add(o.where() + " has no description");
      }
    }
    return out;
  }

  static List<String> tagged(TfTree tree) {
    List<String> out = new ArrayList<>();
    for (TfTree.Block r : tree.resources()) {
      if (!UNTAGGABLE.contains(r.type()) && !r.body().has("tags")) {
        out.add(r.where() + " has no tags (every taggable resource takes var.tags / local.tags)");
      }
    }
    return out;
  }

  private static List<TfTree.Block> referencing(TfTree tree, String type, TfTree.Block bucket) {
    Pattern ref = Pattern.compile("\\baws_s3_bucket\\." + Pattern.quote(bucket.name()) + "\\b(?![_])");
    List<TfTree.Block> out = new ArrayList<>();
    for (TfTree.Block r : tree.resources(type)) {
      if (ref.matcher(TfTree.flat(r.body())).find()) {
        out.add(r);
      }
    }
    return out;
  }

  private static TfTree.Block policyDocumentOf(TfTree tree, JsonNode policyAttr) {
    Matcher m = Pattern.compile("data\\.aws_iam_policy_document\\.([A-Za-z0-9_-]+)").matcher(policyAttr.asText(""));
    if (!m.find()) {
      return null;
    }
    for (TfTree.Block d : tree.data("aws_iam_policy_document")) {
      if (d.name().equals(m.group(1))) {
        return d;
      }
    }
    return null;
  }

  static List<String> bucketsLockedDown(TfTree tree) {
    List<String> out = new ArrayList<>();
    List<TfTree.Block> buckets = tree.resources("aws_s3_bucket");
    for (TfTree.Block b : buckets) {
      if (b.body().has("acl")) {
        out.add(b.where() + " sets the legacy acl argument (use ownership controls BucketOwnerEnforced)");
      }
      // encryption: SSE-KMS with a customer key
      boolean kms = false;
      for (TfTree.Block sse : referencing(tree, "aws_s3_bucket_server_side_encryption_configuration", b)) {
        for (JsonNode rule : TfTree.blocks(sse.body(), "rule")) {
          for (JsonNode def : TfTree.blocks(rule, "apply_server_side_encryption_by_default")) {
            if ("aws:kms".equals(def.path("sse_algorithm").asText())
                && !def.path("kms_master_key_id").asText("").isBlank()) {
              kms = true;
            }
          }
        }
      }
      if (!kms) {
        out.add(b.where() + " has no SSE-KMS default encryption with a customer key "
            + "(aws_s3_bucket_server_side_encryption_configuration, sse_algorithm = \"aws:kms\", kms_master_key_id)");
      }
      // public access block: all four flags literally true
      boolean pab = false;
      for (TfTree.Block p : referencing(tree, "aws_s3_bucket_public_access_block", b)) {
        JsonNode x = p.body();
        if (x.path("block_public_acls").asBoolean(false) && x.path("block_public_policy").asBoolean(false)
            && x.path("ignore_public_acls").asBoolean(false) && x.path("restrict_public_buckets").asBoolean(false)) {
          pab = true;
        }
      }
      if (!pab) {
        out.add(b.where() + " has no public access block with all four settings true");
      }
      boolean versioned = false;
      for (TfTree.Block v : referencing(tree, "aws_s3_bucket_versioning", b)) {
        for (JsonNode c : TfTree.blocks(v.body(), "versioning_configuration")) {
          versioned |= "Enabled".equals(c.path("status").asText());
        }
      }
      if (!versioned) {
        out.add(b.where() + " has no versioning with status \"Enabled\"");
      }
      if (referencing(tree, "aws_s3_bucket_lifecycle_configuration", b).isEmpty()) {
        out.add(b.where() + " has no lifecycle configuration");
      }
      boolean tlsOnly = false;
      for (TfTree.Block pol : referencing(tree, "aws_s3_bucket_policy", b)) {
        TfTree.Block doc = policyDocumentOf(tree, pol.body().path("policy"));
        if (doc != null && hasTlsDeny(doc.body())) {
          tlsOnly = true;
        }
      }
      if (!tlsOnly) {
        out.add(b.where() + " has no bucket policy denying requests without TLS "
            + "(Deny when aws:SecureTransport is false)");
      }
      for (TfTree.Block acl : referencing(tree, "aws_s3_bucket_acl", b)) {
        out.add(acl.where() + " sets an ACL on " + b.address() + " (" + acl.body().path("acl").asText()
            + "); ACLs stay disabled");
      }
    }
    return out;
  }

  private static boolean hasTlsDeny(JsonNode doc) {
    for (JsonNode st : TfTree.blocks(doc, "statement")) {
      if (!"Deny".equals(st.path("effect").asText())) {
        continue;
      }
      for (JsonNode c : TfTree.blocks(st, "condition")) {
        if ("aws:SecureTransport".equals(c.path("variable").asText())
            && TfTree.strings(c.path("values")).contains("false")) {
          return true;
        }
      }
    }
    return false;
  }

  /** Policies must be aws_iam_policy_document data sources so that they can be checked here. */
  static List<String> policiesAreDocuments(TfTree tree) {
    List<String> out = new ArrayList<>();
    for (TfTree.Block r : tree.resources()) {
      for (String attr : List.of("policy", "assume_role_policy", "policy_document")) {
        JsonNode v = r.body().path(attr);
        if (v.isMissingNode()) {
          continue;
        }
        if (!v.asText("").matches("\\$\\{data\\.aws_iam_policy_document\\.[^}]*\\.json\\}")) {
          out.add(r.where() + ": " + attr + " must be data.aws_iam_policy_document.<name>.json, not "
              + abbreviate(v.toString()));
        }
      }
      if (r.type().equals("aws_iam_role")) {
        for (JsonNode inline : TfTree.blocks(r.body(), "inline_policy")) {
          out.add(r.where() + ": inline_policy blocks are not used; write aws_iam_role_policy with a document "
              + abbreviate(inline.toString()));
        }
      }
    }
    return out;
  }

  static List<String> noWildcardGrants(TfTree tree) {
    List<String> out = new ArrayList<>();
    for (TfTree.Block d : tree.data("aws_iam_policy_document")) {
      for (JsonNode st : TfTree.blocks(d.body(), "statement")) {
        checkStatement(d, st, out);
      }
      for (JsonNode dyn : TfTree.blocks(d.body().path("dynamic"), "statement")) {
        for (JsonNode content : TfTree.blocks(dyn, "content")) {
          checkStatement(d, content, out);
        }
      }
    }
    for (TfTree.Block a : tree.resources("aws_iam_role_policy_attachment")) {
      String arn = a.body().path("policy_arn").asText("");
      if (FORBIDDEN_MANAGED_POLICIES.contains(arn)) {
        out.add(a.where() + " attaches the over-broad managed policy " + arn);
      }
    }
    for (TfTree.Block r : tree.resources("aws_iam_role")) {
      for (String arn : TfTree.strings(r.body().path("managed_policy_arns"))) {
        if (FORBIDDEN_MANAGED_POLICIES.contains(arn)) {
          out.add(r.where() + " attaches the over-broad managed policy " + arn);
        }
      }
    }
    return out;
  }

  private static void checkStatement(TfTree.Block doc, JsonNode st, List<String> out) {
    String effect = st.path("effect").asText("Allow");
    if (!"Allow".equals(effect)) {
      return;
    }
    List<String> actions = TfTree.strings(st.path("actions"));
    List<String> resources = TfTree.strings(st.path("resources"));
    String sid = st.path("sid").asText("(no sid)");
    if (st.has("not_actions") || st.has("not_resources")) {
      out.add(doc.where() + " statement " + sid + ": Allow with not_actions/not_resources");
    }
    for (String a : actions) {
      if (a.equals("*") || a.equalsIgnoreCase("s3:*") || a.equals("iam:*")) {
        out.add(doc.where() + " statement " + sid + " allows " + a);
      }
      // kms:* is only acceptable in a key policy statement that delegates to the account root (IAM decides)
      if (a.equals("kms:*") && !delegatesToAccountRoot(st)) {
        out.add(doc.where() + " statement " + sid + " allows kms:* to a principal other than the account root");
      }
      if (a.toLowerCase().startsWith("s3:") && resources.contains("*")) {
        out.add(doc.where() + " statement " + sid + " allows " + a + " on resource *");
      }
    }
    for (JsonNode p : TfTree.blocks(st, "principals")) {
      String type = p.path("type").asText();
      List<String> ids = TfTree.strings(p.path("identifiers"));
      if (type.equals("*") || ("AWS".equals(type) && ids.contains("*"))) {
        out.add(doc.where() + " statement " + sid + " allows anyone (principal *)");
      }
    }
  }

  private static boolean delegatesToAccountRoot(JsonNode st) {
    List<JsonNode> principals = TfTree.blocks(st, "principals");
    if (principals.isEmpty()) {
      return false;
    }
    for (JsonNode p : principals) {
      if (!"AWS".equals(p.path("type").asText())) {
        return false;
      }
      for (String id : TfTree.strings(p.path("identifiers"))) {
        if (!id.endsWith(":root")) {
          return false;
        }
      }
    }
    return true;
  }

  static List<String> noOpenIngress(TfTree tree) {
    List<String> out = new ArrayList<>();
    for (TfTree.Block sg : tree.resources("aws_security_group")) {
      for (JsonNode in : TfTree.blocks(sg.body(), "ingress")) {
        openCidrs(sg, in, List.of("cidr_blocks", "ipv6_cidr_blocks"), out);
      }
      for (JsonNode dyn : TfTree.blocks(sg.body().path("dynamic"), "ingress")) {
        for (JsonNode c : TfTree.blocks(dyn, "content")) {
          openCidrs(sg, c, List.of("cidr_blocks", "ipv6_cidr_blocks"), out);
        }
      }
    }
    for (TfTree.Block r : tree.resources("aws_security_group_rule")) {
      if ("ingress".equals(r.body().path("type").asText())) {
        openCidrs(r, r.body(), List.of("cidr_blocks", "ipv6_cidr_blocks"), out);
      }
    }
    for (TfTree.Block r : tree.resources("aws_vpc_security_group_ingress_rule")) {
      openCidrs(r, r.body(), List.of("cidr_ipv4", "cidr_ipv6"), out);
    }
    // a variable that feeds ingress must not default to the whole internet
    for (TfTree.Block v : tree.named("variable")) {
      if (v.name().contains("ingress") || v.name().contains("allowed_cidr")) {
        for (String s : TfTree.strings(v.body().path("default"))) {
          if (OPEN_CIDRS.contains(s)) {
            out.add(v.where() + " defaults to " + s);
          }
        }
      }
    }
    return out;
  }

  private static void openCidrs(TfTree.Block r, JsonNode body, List<String> attrs, List<String> out) {
    for (String attr : attrs) {
      for (String c : TfTree.strings(body.path(attr))) {
        if (OPEN_CIDRS.contains(c.strip())) {
          out.add(r.where() + " allows ingress from " + c);
        }
      }
    }
  }

  /** Everything else that stores data is encrypted with the customer key too. */
  static List<String> otherEncryption(TfTree tree) {
    List<String> out = new ArrayList<>();
    for (TfTree.Block k : tree.resources("aws_kms_key")) {
      if (!k.body().path("enable_key_rotation").asBoolean(false)) {
        out.add(k.where() + " has no enable_key_rotation = true");
      }
    }
    for (TfTree.Block t : tree.resources("aws_sns_topic")) {
      if (t.body().path("kms_master_key_id").asText("").isBlank()) {
        out.add(t.where() + " is not encrypted (kms_master_key_id)");
      }
    }
    for (TfTree.Block g : tree.resources("aws_cloudwatch_log_group")) {
      if (g.body().path("kms_key_id").asText("").isBlank()) {
        out.add(g.where() + " is not encrypted (kms_key_id)");
      }
      if (g.body().path("retention_in_days").isMissingNode()) {
        out.add(g.where() + " keeps logs forever (retention_in_days)");
      }
    }
    return out;
  }

  /** Variables must not carry secrets: none is named like one unless it is marked sensitive and has no default. */
  static List<String> noSecretVariables(TfTree tree) {
    List<String> out = new ArrayList<>();
    Pattern secret = Pattern.compile("(password|secret|access_key|token|private_key|credential)");
    for (TfTree.Block v : tree.named("variable")) {
      if (secret.matcher(v.name()).find()) {
        out.add(v.where() + " looks like a secret; secrets stay out of variables and state");
      }
    }
    for (Map.Entry<Path, String> e : tree.text.entrySet()) {
      Matcher m = Pattern.compile("(AKIA|ASIA)[A-Z0-9]{16}").matcher(e.getValue());
      if (m.find()) {
        out.add(e.getKey() + ": contains what looks like an AWS access key id");
      }
    }
    return out;
  }

  private static String abbreviate(String s) {
    return s.length() > 80 ? s.substring(0, 77) + "..." : s;
  }

  /** All the rules at once (the negative tests use it to prove the checker names file and resource). */
  static List<String> all(TfTree tree) {
    List<String> out = new ArrayList<>();
    out.addAll(parseErrors(tree));
    out.addAll(layout(tree));
    out.addAll(variablesDescribedAndTyped(tree));
    out.addAll(tagged(tree));
    out.addAll(bucketsLockedDown(tree));
    out.addAll(policiesAreDocuments(tree));
    out.addAll(noWildcardGrants(tree));
    out.addAll(noOpenIngress(tree));
    out.addAll(otherEncryption(tree));
    out.addAll(noSecretVariables(tree));
    return out;
  }
}
