# Transient EMR on EC2 clusters are created by the state machine, one per run; this module uploads the bootstrap
# scripts, creates the security configuration and computes the RunJobFlow parameters and the spark-submit prefix.

locals {
  artifacts = var.locations["artifacts"]
  custom    = var.spark_runtime == "custom"

  bootstrap_prefix = "${local.artifacts.prefix}bootstrap/"
  bootstrap_uri    = "s3://${local.artifacts.bucket}/${local.bootstrap_prefix}"
  scripts          = toset(["getGpusResources.sh", "gpu-setup.sh", "install-spark.sh", "mtp-spark-submit.sh"])

  discovery_script   = "/usr/local/bin/getGpusResources.sh"
  executor_instances = var.gpus_per_node * (var.core_instance_count + var.task_instance_count)

  # EMR's Spark in "emr" mode; our distribution in /opt/spark (through the jar-fetching wrapper) in "custom" mode
  spark_submit = local.custom ? "/usr/local/bin/mtp-spark-submit" : "spark-submit"
  applications = local.custom ? ["Hadoop"] : ["Hadoop", "Spark"]

  engine_jvm_options = "--add-modules=jdk.incubator.vector -XX:Tier3DelayOn=100000"

  # GPU scheduling: one GPU per executor and per task, executors found by the discovery script, fixed executor count.
  spark_conf = concat(
    [
      "spark.executor.resource.gpu.amount=1",
      "spark.task.resource.gpu.amount=1",
      "spark.executor.resource.gpu.discoveryScript=${local.discovery_script}",
      "spark.dynamicAllocation.enabled=false",
      "spark.executor.instances=${local.executor_instances}",
      "spark.executor.cores=${var.executor_cores}",
      "spark.executor.memory=${var.executor_memory}",
      "spark.executorEnv.JAVA_HOME=${var.java_home}",
      "spark.yarn.appMasterEnv.JAVA_HOME=${var.java_home}",
      # the engine's SIMD kernels (Vector API), and C1 always at its profiling tier so that a kernel first called
      # while C2 is busy is not left at tier 2 (boxed vectors, 3x slower; docs/BENCHMARKS.md, "JIT order")
      "spark.driver.extraJavaOptions=${local.engine_jvm_options}",
      "spark.executor.extraJavaOptions=${local.engine_jvm_options}",
    ],
    local.custom ? ["spark.hadoop.fs.s3.impl=org.apache.hadoop.fs.s3a.S3AFileSystem"] : [],
    var.extra_spark_conf,
  )

  spark_submit_prefix = concat(
    [local.spark_submit, "--master", "yarn", "--deploy-mode", "cluster"],
    flatten([for c in local.spark_conf : ["--conf", c]]),
  )

  # YARN GPU scheduling and isolation (see PATTERNS.md, "EMR on EC2 with YARN").
  yarn_gpu_configurations = [
    {
      Classification = "yarn-site"
      Properties = {
        "yarn.nodemanager.resource-plugins"                                   = "yarn.io/gpu"
        "yarn.resource-types"                                                 = "yarn.io/gpu"
        "yarn.nodemanager.resource-plugins.gpu.allowed-gpu-devices"           = "auto"
        "yarn.nodemanager.resource-plugins.gpu.path-to-discovery-executables" = "/usr/bin"
        "yarn.nodemanager.linux-container-executor.cgroups.mount"             = "true"
        "yarn.nodemanager.linux-container-executor.cgroups.mount-path"        = var.cgroup_mount_path
        "yarn.nodemanager.linux-container-executor.cgroups.hierarchy"         = "yarn"
        "yarn.nodemanager.container-executor.class"                           = "org.apache.hadoop.yarn.server.nodemanager.LinuxContainerExecutor"
      }
    },
    {
      Classification = "container-executor"
      Properties     = {}
      Configurations = [
        {
          Classification = "gpu"
          Properties     = { "module.enabled" = "true" }
        },
        {
          Classification = "cgroups"
          Properties     = { root = var.cgroup_mount_path, "yarn-hierarchy" = "yarn" }
        },
      ]
    },
    {
      Classification = "capacity-scheduler"
      Properties = {
        "yarn.scheduler.capacity.resource-calculator" = "org.apache.hadoop.yarn.util.resource.DominantResourceCalculator"
      }
    },
  ]

  emr_spark_configurations = [
    {
      Classification = "spark-env"
      Properties     = {}
      Configurations = [
        {
          Classification = "export"
          Properties     = { JAVA_HOME = var.java_home }
        },
      ]
    },
    {
      Classification = "spark-defaults"
      Properties = {
        "spark.dynamicAllocation.enabled"             = "false"
        "spark.executor.resource.gpu.discoveryScript" = local.discovery_script
      }
    },
  ]

  bootstrap_actions = concat(
    [
      {
        Name = "gpu-setup"
        ScriptBootstrapAction = {
          Path = "${local.bootstrap_uri}gpu-setup.sh"
          Args = ["${local.bootstrap_uri}getGpusResources.sh", var.cgroup_mount_path]
        }
      },
    ],
    local.custom ? [
      {
        Name = "install-spark"
        ScriptBootstrapAction = {
          Path = "${local.bootstrap_uri}install-spark.sh"
          Args = ["s3://${local.artifacts.bucket}/${local.artifacts.prefix}${var.spark_tarball_key}", var.java_home, "${local.bootstrap_uri}mtp-spark-submit.sh"]
        }
      },
    ] : [],
  )

  ebs = {
    EbsBlockDeviceConfigs = [
      {
        VolumeSpecification = { VolumeType = "gp3", SizeInGB = var.ebs_size_gb }
        VolumesPerInstance  = 1
      },
    ]
  }

  instance_groups = concat(
    [
      {
        Name             = "primary"
        InstanceRole     = "MASTER"
        InstanceType     = var.primary_instance_type
        InstanceCount    = 1
        Market           = "ON_DEMAND"
        EbsConfiguration = local.ebs
      },
      {
        Name             = "core-gpu"
        InstanceRole     = "CORE"
        InstanceType     = var.gpu_instance_type
        InstanceCount    = var.core_instance_count
        Market           = "ON_DEMAND"
        EbsConfiguration = local.ebs
      },
    ],
    var.task_instance_count > 0 ? [
      {
        Name             = "task-gpu"
        InstanceRole     = "TASK"
        InstanceType     = var.gpu_instance_type
        InstanceCount    = var.task_instance_count
        Market           = var.task_market # "SPOT" for spot task nodes
        EbsConfiguration = local.ebs
      },
    ] : [],
  )

  # Parameters of RunJobFlow as the Step Functions EMR integration takes them (Name is added per run).
  run_job_flow = merge(
    {
      ReleaseLabel          = var.release_label
      Applications          = [for a in local.applications : { Name = a }]
      ServiceRole           = var.service_role_name
      JobFlowRole           = var.instance_profile_name
      LogUri                = "${var.locations["logs"].uri}emr/"
      SecurityConfiguration = aws_emr_security_configuration.this.name
      VisibleToAllUsers     = true
      StepConcurrencyLevel  = 1
      AutoTerminationPolicy = { IdleTimeout = var.idle_timeout_seconds }
      BootstrapActions      = local.bootstrap_actions
      Configurations        = concat(local.yarn_gpu_configurations, local.custom ? [] : local.emr_spark_configurations)
      Tags                  = [for k, v in var.tags : { Key = k, Value = v }]
      Instances = {
        KeepJobFlowAliveWhenNoSteps   = true
        TerminationProtected          = false
        Ec2SubnetId                   = var.subnet_ids[0]
        EmrManagedMasterSecurityGroup = var.primary_security_group_id
        EmrManagedSlaveSecurityGroup  = var.workers_security_group_id
        ServiceAccessSecurityGroup    = var.service_access_security_group_id
        InstanceGroups                = local.instance_groups
      }
    },
    var.custom_ami_id == null ? {} : { CustomAmiId = var.custom_ami_id },
  )
}

resource "aws_s3_object" "script" {
  for_each = local.scripts

  bucket      = local.artifacts.bucket
  key         = "${local.bootstrap_prefix}${each.value}"
  source      = "${path.module}/scripts/${each.value}"
  source_hash = filemd5("${path.module}/scripts/${each.value}")
  tags        = var.tags
}

resource "aws_emr_security_configuration" "this" {
  name = "${var.name_prefix}-at-rest-kms"

  configuration = jsonencode({
    EncryptionConfiguration = {
      EnableInTransitEncryption = false
      EnableAtRestEncryption    = true
      AtRestEncryptionConfiguration = {
        S3EncryptionConfiguration = {
          EncryptionMode = "SSE-KMS"
          AwsKmsKey      = var.kms_key_arn
        }
        LocalDiskEncryptionConfiguration = {
          EncryptionKeyProviderType = "AwsKms"
          AwsKmsKey                 = var.kms_key_arn
          EnableEbsEncryption       = true
        }
      }
    }
  })

  lifecycle {
    precondition {
      condition     = var.spark_runtime == "custom" || startswith(var.release_label, "emr-spark-")
      error_message = "spark_runtime = \"emr\" needs an EMR release with Spark 4 (emr-spark-8.0.0 or later); 7.x releases carry Spark 3.5."
    }
  }
}
