# Least-privilege roles for the transient EMR clusters: the EMR service role and the EC2 instance profile.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id   = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  region       = data.aws_region.current.name
  read_only    = ["models", "inputs", "artifacts"]
  read_write   = ["outputs", "logs"]
  cluster_arns = "arn:${local.partition}:elasticmapreduce:${local.region}:${local.account_id}:cluster/*"
}

# ---------------------------------------------------------------- EMR service role

data "aws_iam_policy_document" "emr_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["elasticmapreduce.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:elasticmapreduce:${local.region}:${local.account_id}:*"]
    }
  }
}

resource "aws_iam_role" "emr_service" {
  name               = "${var.name_prefix}-emr-service"
  description        = "EMR service role for the transient GPU generation clusters"
  assume_role_policy = data.aws_iam_policy_document.emr_assume.json
  tags               = var.tags
}

# AmazonEMRServicePolicy_v2 scopes its EC2 actions to resources tagged
# for-use-with-amazon-emr-managed-policies=true (the network module tags the security groups and, optionally, subnets).
resource "aws_iam_role_policy_attachment" "emr_service_v2" {
  role       = aws_iam_role.emr_service.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2"
}

data "aws_iam_policy_document" "emr_service_extra" {
  statement {
    sid       = "PassTheInstanceProfileRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.emr_ec2.arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ec2.amazonaws.com"]
    }
  }

  statement {
    sid       = "EncryptedEbsVolumes"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "GrantsForEbsOnly"
    actions   = ["kms:CreateGrant"]
    resources = [var.kms_key_arn]

    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }
}

resource "aws_iam_role_policy" "emr_service_extra" {
  name   = "pass-role-and-kms"
  role   = aws_iam_role.emr_service.id
  policy = data.aws_iam_policy_document.emr_service_extra.json
}

# ---------------------------------------------------------------- EC2 instance profile

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "emr_ec2" {
  name               = "${var.name_prefix}-emr-ec2"
  description        = "Instance profile role of the EMR nodes: read models/inputs/artifacts, write outputs/logs"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
  tags               = var.tags
}

resource "aws_iam_instance_profile" "emr_ec2" {
  name = "${var.name_prefix}-emr-ec2"
  role = aws_iam_role.emr_ec2.name
  tags = var.tags
}

data "aws_iam_policy_document" "emr_ec2" {
  # Listing is limited to the prefix of each location in the single-bucket layout.
  dynamic "statement" {
    for_each = var.locations

    content {
      sid       = "List${title(statement.key)}"
      actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
      resources = [statement.value.bucket_arn]

      # a bucket of its own ("" prefix) may be listed from its root; a shared bucket only under the purpose's prefix
      dynamic "condition" {
        for_each = statement.value.prefix == "" ? [] : [statement.value.prefix]

        content {
          test     = "StringLike"
          variable = "s3:prefix"
          values   = [condition.value, "${condition.value}*"]
        }
      }
    }
  }

  statement {
    sid       = "ReadModelsInputsArtifacts"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [for p in local.read_only : "${var.locations[p].bucket_arn}/${var.locations[p].prefix}*"]
  }

  statement {
    sid = "ReadWriteOutputsAndLogs"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = [for p in local.read_write : "${var.locations[p].bucket_arn}/${var.locations[p].prefix}*"]
  }

  statement {
    sid       = "ListUploadsForMultipartCommits"
    actions   = ["s3:ListBucketMultipartUploads"]
    resources = distinct([for p in local.read_write : var.locations[p].bucket_arn])
  }

  statement {
    sid       = "UseTheDataKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid = "ReadOwnClusterMetadata"
    actions = [
      "elasticmapreduce:DescribeCluster",
      "elasticmapreduce:ListBootstrapActions",
      "elasticmapreduce:ListInstanceGroups",
      "elasticmapreduce:ListInstances",
      "elasticmapreduce:ListSteps",
      "elasticmapreduce:DescribeStep",
    ]
    resources = [local.cluster_arns]
  }
}

resource "aws_iam_role_policy" "emr_ec2" {
  name   = "data-access"
  role   = aws_iam_role.emr_ec2.id
  policy = data.aws_iam_policy_document.emr_ec2.json
}
