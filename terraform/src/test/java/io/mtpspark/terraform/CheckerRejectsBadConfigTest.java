package io.mtpspark.terraform;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checks must be able to fail: deliberately bad snippets are written to a temp folder and rejected. */
class CheckerRejectsBadConfigTest {

  @TempDir
  Path dir;

  private TfTree write(String name, String hcl) throws IOException {
    Files.writeString(dir.resolve(name), hcl);
    return TfTree.load(dir);
  }

  private static void assertMentions(List<String> violations, String... parts) {
    boolean found = violations.stream().anyMatch(v -> {
      for (String p : parts) {
        if (!v.contains(p)) {
          return false;
        }
      }
      return true;
    });
    assertTrue(found, "expected a violation mentioning " + List.of(parts) + " in " + violations);
  }

  @Test
  void syntaxErrorIsReportedWithFileAndPosition() throws IOException {
    TfTree t = write("broken.tf", "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \n}\n");
    List<String> v = Checks.parseErrors(t);
    assertEquals(1, v.size(), v.toString());
    assertMentions(v, "broken.tf", "HCL syntax error", "2,");
  }

  @Test
  void unclosedBlockIsASyntaxError() throws IOException {
    TfTree t = write("unclosed.tf", "variable \"x\" {\n  type = string\n");
    assertMentions(Checks.parseErrors(t), "unclosed.tf", "HCL syntax error");
  }

  @Test
  void publicReadBucketIsRejected() throws IOException {
    TfTree t = write("public.tf", """
        resource "aws_s3_bucket" "website" {
          bucket = "my-public-site"
          acl    = "public-read"
          tags   = var.tags
        }

        resource "aws_s3_bucket_acl" "website" {
          bucket = aws_s3_bucket.website.id
          acl    = "public-read"
        }

        resource "aws_s3_bucket_public_access_block" "website" {
          bucket                  = aws_s3_bucket.website.id
          block_public_acls       = false
          block_public_policy     = true
          ignore_public_acls      = true
          restrict_public_buckets = true
        }
        """);
    List<String> v = Checks.bucketsLockedDown(t);
    assertMentions(v, "public.tf", "aws_s3_bucket.website", "acl");
    assertMentions(v, "public.tf", "aws_s3_bucket.website", "public access block");
    assertMentions(v, "public.tf", "aws_s3_bucket.website", "SSE-KMS");
    assertMentions(v, "public.tf", "aws_s3_bucket.website", "TLS");
    assertMentions(v, "public.tf", "aws_s3_bucket_acl.website", "public-read");
  }

  @Test
  void bucketPolicyAllowingEveryoneIsRejected() throws IOException {
    TfTree t = write("anyone.tf", """
        data "aws_iam_policy_document" "open" {
          statement {
            actions   = ["s3:GetObject"]
            resources = ["arn:aws:s3:::b/*"]

            principals {
              type        = "AWS"
              identifiers = ["*"]
            }
          }
        }
        """);
    assertMentions(Checks.noWildcardGrants(t), "anyone.tf", "data.aws_iam_policy_document.open", "principal *");
  }

  @Test
  void openIngressIsRejectedInEveryForm() throws IOException {
    TfTree t = write("sg.tf", """
        resource "aws_security_group" "ssh" {
          name   = "ssh"
          vpc_id = "vpc-1"
          tags   = var.tags

          ingress {
            from_port   = 22
            to_port     = 22
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }

        resource "aws_security_group_rule" "web" {
          type              = "ingress"
          from_port         = 443
          to_port           = 443
          protocol          = "tcp"
          ipv6_cidr_blocks  = ["::/0"]
          security_group_id = aws_security_group.ssh.id
        }

        resource "aws_vpc_security_group_ingress_rule" "any" {
          security_group_id = aws_security_group.ssh.id
          cidr_ipv4         = "0.0.0.0/0"
          ip_protocol       = "-1"
          tags              = var.tags
        }
        """);
    List<String> v = Checks.noOpenIngress(t);
    assertMentions(v, "sg.tf", "aws_security_group.ssh", "0.0.0.0/0");
    assertMentions(v, "sg.tf", "aws_security_group_rule.web", "::/0");
    assertMentions(v, "sg.tf", "aws_vpc_security_group_ingress_rule.any", "0.0.0.0/0");
  }

  @Test
  void s3StarOnStarAndBroadManagedPoliciesAreRejected() throws IOException {
    TfTree t = write("iam.tf", """
        data "aws_iam_policy_document" "too_broad" {
          statement {
            sid       = "Everything"
            actions   = ["s3:*"]
            resources = ["*"]
          }

          statement {
            sid       = "ReadAnyBucket"
            actions   = ["s3:GetObject"]
            resources = ["*"]
          }
        }

        resource "aws_iam_role_policy_attachment" "full" {
          role       = "r"
          policy_arn = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
        }

        resource "aws_iam_role_policy" "inline_json" {
          role   = "r"
          policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:*", Resource = "*" }] })
        }
        """);
    List<String> v = Checks.noWildcardGrants(t);
    assertMentions(v, "iam.tf", "data.aws_iam_policy_document.too_broad", "Everything", "s3:*");
    assertMentions(v, "iam.tf", "data.aws_iam_policy_document.too_broad", "ReadAnyBucket", "on resource *");
    assertMentions(v, "iam.tf", "aws_iam_role_policy_attachment.full", "AmazonS3FullAccess");
    assertMentions(Checks.policiesAreDocuments(t), "iam.tf", "aws_iam_role_policy.inline_json",
        "aws_iam_policy_document");
  }

  @Test
  void untaggedResourceAndUndescribedVariableAreRejected() throws IOException {
    TfTree t = write("misc.tf", """
        variable "region" {
          type = string
        }

        variable "password" {
          description = "Do not do this."
          type        = string
        }

        resource "aws_sns_topic" "alerts" {
          name = "alerts"
        }
        """);
    assertMentions(Checks.tagged(t), "misc.tf", "aws_sns_topic.alerts", "no tags");
    assertMentions(Checks.otherEncryption(t), "misc.tf", "aws_sns_topic.alerts", "not encrypted");
    assertMentions(Checks.variablesDescribedAndTyped(t), "misc.tf", "variable.region", "no description");
    assertMentions(Checks.noSecretVariables(t), "misc.tf", "variable.password", "secret");
  }

  @Test
  void misalignedEqualsAndBadIndentationAreRejected() throws IOException {
    TfTree t = write("fmt.tf", """
        resource "aws_sqs_queue" "q" {
          name = "q"
          delay_seconds = 0
            tags = var.tags
        }
        """);
    List<String> v = Checks.layout(t);
    assertMentions(v, "fmt.tf:2", "aligns");
    assertMentions(v, "fmt.tf:4", "indented 4 spaces");
  }

  /** The rules also bite on the repository's own for_each patterns: weaken a copy of the real files. */
  @Test
  void weakenedCopiesOfTheRealModulesAreRejected() throws IOException {
    Path src = Hcl.terraformDir().resolve("modules");
    String storage = Files.readString(src.resolve("storage/main.tf"))
        .replace("sse_algorithm     = \"aws:kms\"", "sse_algorithm     = \"AES256\"")
        .replace("block_public_acls       = true", "block_public_acls       = false")
        .replace("status = \"Enabled\"\n  }\n}", "status = \"Suspended\"\n  }\n}");
    String network = Files.readString(src.resolve("network/main.tf"))
        .replace("referenced_security_group_id = aws_security_group.primary.id\n  ip_protocol                  = \"tcp\"\n"
            + "  from_port                    = 9443", "cidr_ipv4                    = \"0.0.0.0/0\"\n"
            + "  ip_protocol                  = \"tcp\"\n  from_port                    = 9443");
    Files.writeString(dir.resolve("network.tf"), network);
    TfTree t = write("storage.tf", storage);
    assertEquals(List.of(), Checks.parseErrors(t));
    List<String> s3 = Checks.bucketsLockedDown(t);
    assertMentions(s3, "storage.tf", "aws_s3_bucket.this", "SSE-KMS");
    assertMentions(s3, "storage.tf", "aws_s3_bucket.this", "public access block");
    assertMentions(s3, "storage.tf", "aws_s3_bucket.this", "versioning");
    assertMentions(Checks.noOpenIngress(t), "network.tf",
        "aws_vpc_security_group_ingress_rule.service_access_from_primary", "0.0.0.0/0");
  }

  @Test
  void wellFormedSnippetPassesTheLayoutCheck() throws IOException {
    TfTree t = write("ok.tf", """
        resource "aws_sqs_queue" "q" {
          name          = "q"
          delay_seconds = 0
          tags = merge(var.tags, {
            Name = "q"
          })

          redrive_policy = data.aws_iam_policy_document.x.json
        }
        """);
    assertEquals(List.of(), Checks.layout(t));
  }
}
