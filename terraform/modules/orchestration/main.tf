# EventBridge Scheduler -> Step Functions: create a GPU cluster, run GenerateJob then ReportJob as EMR steps (each
# task waits for completion), terminate the cluster, and publish to SNS when anything fails.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  topic_arn  = var.sns_topic_arn == null ? aws_sns_topic.failures[0].arn : var.sns_topic_arn

  jar_uri     = "${var.locations["artifacts"].uri}${var.jar_key}"
  model_uri   = "${var.locations["models"].uri}${var.model_key}"
  inputs_s3a  = "s3a://${var.locations["inputs"].bucket}/${var.locations["inputs"].prefix}"
  outputs_s3a = "s3a://${var.locations["outputs"].bucket}/${var.locations["outputs"].prefix}"

  # Step arguments as States.Array(...) items: literals in single quotes, per-run values as JSONPath/intrinsics.
  # (No literal here contains ' { } or \, which intrinsic functions would need escaped.)
  submit_items = [for a in var.spark_submit_prefix : "'${a}'"]

  generate_items = concat(
    local.submit_items,
    ["'--class'", "'io.mtpspark.jobs.GenerateJob'", "'${local.jar_uri}'"],
    ["'--input'", "States.Format('${local.inputs_s3a}{}/', $.run.date)"],
    ["'--output'", "'${local.outputs_s3a}'"],
    ["'--run-id'", "$.run.run_id"],
    ["'--model'", "'${local.model_uri}'"],
    var.adapter_key == null ? [] : ["'--adapter'", "'${var.locations["models"].uri}${var.adapter_key}'"],
    ["'--decoder'", "'${var.decoder}'", "'--k'", "'${var.draft_k}'", "'--backend'", "'${var.backend}'"],
    ["'--batch-size'", "'${var.batch_size}'"],
    ["'--instance-type'", "'${var.gpu_instance_type}'"],
  )

  report_items = concat(
    local.submit_items,
    ["'--class'", "'io.mtpspark.jobs.ReportJob'", "'${local.jar_uri}'"],
    ["'--runs'", "'${local.outputs_s3a}'", "'--out'", "'${local.outputs_s3a}reports/'"],
  )

  catch_all = [
    {
      ErrorEquals = ["States.ALL"]
      ResultPath  = "$.error"
      Next        = "TerminateAfterFailure"
    },
  ]

  definition = {
    Comment = "${var.name_prefix}: scheduled GPU bulk generation on a transient EMR cluster"
    StartAt = "ResolveRun"
    States = {
      ResolveRun = {
        Type = "Choice"
        Choices = [
          {
            Variable  = "$.date"
            IsPresent = true
            Next      = "UseGivenDate"
          },
        ]
        Default = "UseStartDate"
      }
      UseGivenDate = {
        Type       = "Pass"
        Parameters = { "date.$" = "$.date", "run_id.$" = "$$.Execution.Name" }
        ResultPath = "$.run"
        Next       = "CreateCluster"
      }
      UseStartDate = {
        Type       = "Pass"
        Parameters = { "date.$" = "States.ArrayGetItem(States.StringSplit($$.Execution.StartTime, 'T'), 0)", "run_id.$" = "$$.Execution.Name" }
        ResultPath = "$.run"
        Next       = "CreateCluster"
      }
      CreateCluster = {
        Type           = "Task"
        Resource       = "arn:${local.partition}:states:::elasticmapreduce:createCluster.sync"
        Parameters     = merge(var.run_job_flow, { "Name.$" = "States.Format('${var.name_prefix}-{}', $.run.run_id)" })
        ResultSelector = { "ClusterId.$" = "$.ClusterId" }
        ResultPath     = "$.cluster"
        Next           = "GenerateStep"
        Catch = [
          {
            ErrorEquals = ["States.ALL"]
            ResultPath  = "$.error"
            Next        = "NotifyFailure"
          },
        ]
      }
      GenerateStep = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::elasticmapreduce:addStep.sync"
        Parameters = {
          "ClusterId.$" = "$.cluster.ClusterId"
          Step = {
            Name            = "GenerateJob"
            ActionOnFailure = "CONTINUE"
            HadoopJarStep = {
              Jar      = "command-runner.jar"
              "Args.$" = "States.Array(${join(", ", local.generate_items)})"
            }
          }
        }
        ResultPath = null
        Next       = "ReportStep"
        Catch      = local.catch_all
      }
      ReportStep = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::elasticmapreduce:addStep.sync"
        Parameters = {
          "ClusterId.$" = "$.cluster.ClusterId"
          Step = {
            Name            = "ReportJob"
            ActionOnFailure = "CONTINUE"
            HadoopJarStep = {
              Jar      = "command-runner.jar"
              "Args.$" = "States.Array(${join(", ", local.report_items)})"
            }
          }
        }
        ResultPath = null
        Next       = "TerminateCluster"
        Catch      = local.catch_all
      }
      TerminateCluster = {
        Type       = "Task"
        Resource   = "arn:${local.partition}:states:::elasticmapreduce:terminateCluster.sync"
        Parameters = { "ClusterId.$" = "$.cluster.ClusterId" }
        ResultPath = null
        End        = true
      }
      TerminateAfterFailure = {
        Type       = "Task"
        Resource   = "arn:${local.partition}:states:::elasticmapreduce:terminateCluster.sync"
        Parameters = { "ClusterId.$" = "$.cluster.ClusterId" }
        ResultPath = null
        Next       = "NotifyFailure"
        Catch = [
          {
            ErrorEquals = ["States.ALL"]
            ResultPath  = "$.terminate_error"
            Next        = "NotifyFailure"
          },
        ]
      }
      NotifyFailure = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::sns:publish"
        Parameters = {
          TopicArn    = local.topic_arn
          Subject     = "${var.name_prefix}: GPU generation run failed"
          "Message.$" = "States.Format('Run {} for date {} failed: {}', $.run.run_id, $.run.date, States.JsonToString($.error))"
        }
        ResultPath = null
        Next       = "Failed"
      }
      Failed = {
        Type  = "Fail"
        Error = "GenerationRunFailed"
        Cause = "See the SNS message, the state machine history and the EMR logs under the logs location."
      }
    }
  }
}

# ---------------------------------------------------------------- failure topic

resource "aws_sns_topic" "failures" {
  count = var.sns_topic_arn == null ? 1 : 0

  name              = "${var.name_prefix}-run-failures"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

# ---------------------------------------------------------------- state machine

resource "aws_cloudwatch_log_group" "sfn" {
  name              = "/aws/vendedlogs/states/${var.name_prefix}-generation"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "sfn_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "sfn" {
  name               = "${var.name_prefix}-sfn"
  description        = "Step Functions role: run and terminate EMR clusters, add steps, publish failures"
  assume_role_policy = data.aws_iam_policy_document.sfn_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "sfn" {
  statement {
    sid       = "CreateClusters"
    actions   = ["elasticmapreduce:RunJobFlow"]
    resources = ["*"] # RunJobFlow has no resource-level permissions
  }

  statement {
    sid = "ManageOwnClusters"
    actions = [
      "elasticmapreduce:DescribeCluster",
      "elasticmapreduce:TerminateJobFlows",
      "elasticmapreduce:AddJobFlowSteps",
      "elasticmapreduce:DescribeStep",
      "elasticmapreduce:CancelSteps",
      "elasticmapreduce:AddTags",
    ]
    resources = ["arn:${local.partition}:elasticmapreduce:${local.region}:${local.account_id}:cluster/*"]
  }

  statement {
    sid     = "PassClusterRoles"
    actions = ["iam:PassRole"]
    resources = [
      var.emr_service_role_arn,
      var.emr_ec2_role_arn,
    ]
  }

  statement {
    sid     = "SyncIntegrationRules"
    actions = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    resources = [
      "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventForEMRRunJobFlowRule",
      "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventForEMRTerminateJobFlowsRule",
      "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventForEMRAddJobFlowStepsRule",
    ]
  }

  statement {
    sid       = "PublishFailures"
    actions   = ["sns:Publish"]
    resources = [local.topic_arn]
  }

  statement {
    sid       = "EncryptedTopic"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid = "DeliverExecutionLogs"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"] # the CloudWatch Logs delivery APIs take no resource ARNs
  }
}

resource "aws_iam_role_policy" "sfn" {
  name   = "run-emr"
  role   = aws_iam_role.sfn.id
  policy = data.aws_iam_policy_document.sfn.json
}

resource "aws_sfn_state_machine" "generation" {
  name       = "${var.name_prefix}-generation"
  role_arn   = aws_iam_role.sfn.arn
  definition = jsonencode(local.definition)
  tags       = var.tags

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.sfn.arn}:*"
    include_execution_data = false
    level                  = "ERROR"
  }

  depends_on = [aws_iam_role_policy.sfn]
}

# ---------------------------------------------------------------- schedule

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name_prefix}-scheduler"
  description        = "EventBridge Scheduler role: start the generation state machine"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "StartGeneration"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.generation.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "start-generation"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "generation" {
  name                         = "${var.name_prefix}-generation"
  description                  = "Starts the GPU bulk generation state machine"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone
  state                        = var.schedule_enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.generation.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({})

    retry_policy {
      maximum_retry_attempts = 0
    }
  }
}
