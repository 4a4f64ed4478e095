# ---------------------------------------------------------------- general

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name and bucket name (3-20 lowercase letters, digits, hyphens; starts with a letter)."
  type        = string
  default     = "mtp-spark"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,19}$", var.name_prefix))
    error_message = "name_prefix must be 3-20 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Tags put on every taggable resource and on the EMR clusters (merged with Project and ManagedBy)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be at most 128 characters and not start with aws:, values at most 256 characters."
  }
}

# ---------------------------------------------------------------- storage

variable "bucket_layout" {
  description = "\"per_purpose\": one bucket each for models, inputs, outputs, artifacts and logs; \"single\": one bucket with the prefixes models/, inputs/, outputs/, artifacts/, logs/."
  type        = string
  default     = "per_purpose"

  validation {
    condition     = contains(["per_purpose", "single"], var.bucket_layout)
    error_message = "bucket_layout must be \"per_purpose\" or \"single\"."
  }
}

variable "log_retention_days" {
  description = "Days to keep EMR and job logs in S3 and state machine logs in CloudWatch."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "temp_retention_days" {
  description = "Days after which temporary data under <outputs>/tmp/ expires."
  type        = number
  default     = 7

  validation {
    condition     = var.temp_retention_days >= 1
    error_message = "temp_retention_days must be at least 1."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days after which overwritten or deleted object versions are removed."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "force_destroy_buckets" {
  description = "Allow terraform destroy to delete buckets that still hold objects (test accounts only)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------- network

variable "vpc_id" {
  description = "VPC of the private subnets."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123abcd."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets (no route to an internet gateway) for the cluster nodes; the instance groups use the first. They need a route to S3, KMS, STS and EMR (NAT gateway or VPC endpoints)."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) > 0 && alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "private_subnet_ids must hold at least one subnet id (subnet-...)."
  }
}

variable "egress_cidr_blocks" {
  description = "IPv4 ranges the nodes may connect out to (AWS endpoints through NAT or VPC endpoints). Ingress from outside is never opened."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for c in var.egress_cidr_blocks : can(cidrhost(c, 0))])
    error_message = "egress_cidr_blocks must be IPv4 CIDR blocks."
  }
}

variable "tag_subnets_for_emr" {
  description = "Tag the subnets with for-use-with-amazon-emr-managed-policies=true, which AmazonEMRServicePolicy_v2 requires (set false if they are tagged elsewhere)."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------- cluster

variable "emr_release_label" {
  description = "EMR release. Default emr-7.12.0 (Spark 3.5.x, Scala 2.12) provides Hadoop/YARN while spark_runtime = \"custom\" installs our Spark 4.2. emr-spark-8.0.0 carries Spark 4.0.2 (Scala 2.13, Java 17) for spark_runtime = \"emr\"."
  type        = string
  default     = "emr-7.12.0"

  validation {
    condition     = can(regex("^emr-(spark-)?[0-9]+\\.[0-9]+\\.[0-9]+$", var.emr_release_label))
    error_message = "emr_release_label must look like emr-7.12.0 or emr-spark-8.0.0."
  }
}

variable "spark_runtime" {
  description = "\"custom\": a bootstrap action installs our Spark distribution (spark_tarball_key) and the steps use it; \"emr\": use the Spark of the EMR release (needs an emr-spark-8.x release and jobs that run on its Spark version)."
  type        = string
  default     = "custom"

  validation {
    condition     = contains(["custom", "emr"], var.spark_runtime)
    error_message = "spark_runtime must be \"custom\" or \"emr\"."
  }
}

variable "spark_tarball_key" {
  description = "Key, under the artifacts location, of the Apache Spark tarball installed when spark_runtime = \"custom\"."
  type        = string
  default     = "spark/spark-4.2.0-bin-hadoop3.tgz"

  validation {
    condition     = endswith(var.spark_tarball_key, ".tgz") && !startswith(var.spark_tarball_key, "/")
    error_message = "spark_tarball_key must be a relative key ending in .tgz."
  }
}

variable "java_home" {
  description = "JAVA_HOME of the Java 17 runtime on the EMR nodes (Amazon Corretto 17 path of the EMR AMI; check it on your release)."
  type        = string
  default     = "/usr/lib/jvm/java-17-amazon-corretto.x86_64"

  validation {
    condition     = startswith(var.java_home, "/")
    error_message = "java_home must be an absolute path."
  }
}

variable "primary_instance_type" {
  description = "Instance type of the primary node (runs YARN ResourceManager and step submission; no GPU)."
  type        = string
  default     = "m7i.xlarge"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.primary_instance_type))
    error_message = "primary_instance_type must be an EC2 instance type such as m7i.xlarge."
  }
}

variable "gpu_instance_type" {
  description = "GPU instance type of the core and task nodes: a g5, g6, p4d or p5 type."
  type        = string
  default     = "g5.2xlarge"

  validation {
    condition     = can(regex("^(g5|g6|g6e|p4d|p4de|p5|p5e|p5en)\\.[0-9]*x?large$", var.gpu_instance_type))
    error_message = "gpu_instance_type must be a g5, g6, p4d or p5 instance type, e.g. g5.2xlarge, g6.12xlarge, p4d.24xlarge, p5.48xlarge."
  }
}

variable "gpus_per_node" {
  description = "GPUs per gpu_instance_type node; sets spark.executor.instances (1 executor per GPU). 1 for g5/g6 up to 8xlarge and 16xlarge, 4 for 12xlarge/24xlarge, 8 for 48xlarge, p4d.24xlarge and p5.48xlarge."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 4, 8], var.gpus_per_node)
    error_message = "gpus_per_node must be 1, 4 or 8."
  }
}

variable "core_instance_count" {
  description = "On-demand GPU core nodes (they also hold HDFS, so they are never spot)."
  type        = number
  default     = 1

  validation {
    condition     = var.core_instance_count >= 1 && var.core_instance_count <= 50
    error_message = "core_instance_count must be between 1 and 50."
  }
}

variable "task_instance_count" {
  description = "GPU task nodes in addition to the core nodes (0 for none)."
  type        = number
  default     = 0

  validation {
    condition     = var.task_instance_count >= 0 && var.task_instance_count <= 100
    error_message = "task_instance_count must be between 0 and 100."
  }
}

variable "task_market" {
  description = "Purchasing option of the task nodes: SPOT (cheaper, may be reclaimed; failed tasks are retried) or ON_DEMAND."
  type        = string
  default     = "SPOT"

  validation {
    condition     = contains(["SPOT", "ON_DEMAND"], var.task_market)
    error_message = "task_market must be SPOT or ON_DEMAND."
  }
}

variable "executor_cores" {
  description = "spark.executor.cores (one executor per GPU; leave headroom for YARN daemons)."
  type        = number
  default     = 4

  validation {
    condition     = var.executor_cores >= 1
    error_message = "executor_cores must be at least 1."
  }
}

variable "executor_memory" {
  description = "spark.executor.memory per GPU executor, e.g. 16g."
  type        = string
  default     = "16g"

  validation {
    condition     = can(regex("^[0-9]+[mg]$", var.executor_memory))
    error_message = "executor_memory must look like 16g or 4096m."
  }
}

variable "ebs_size_gb" {
  description = "gp3 EBS volume size per node, GiB (models are cached on local disk)."
  type        = number
  default     = 200

  validation {
    condition     = var.ebs_size_gb >= 32
    error_message = "ebs_size_gb must be at least 32."
  }
}

variable "idle_timeout_seconds" {
  description = "EMR auto-termination after this much idle time; a safety net in case an execution is stopped before its terminate step."
  type        = number
  default     = 3600

  validation {
    condition     = var.idle_timeout_seconds >= 60 && var.idle_timeout_seconds <= 604800
    error_message = "idle_timeout_seconds must be between 60 and 604800 (EMR limits)."
  }
}

variable "cgroup_mount_path" {
  description = "cgroup mount path for YARN GPU isolation; the gpu-setup bootstrap mounts the v1 devices controller there on cgroup v2 hosts (Amazon Linux 2023). Use /sys/fs/cgroup on cgroup v1 AMIs."
  type        = string
  default     = "/spark-rapids-cgroup"

  validation {
    condition     = startswith(var.cgroup_mount_path, "/")
    error_message = "cgroup_mount_path must be an absolute path."
  }
}

variable "custom_ami_id" {
  description = "Optional custom AMI (Amazon Linux based, built for EMR) for the nodes, e.g. with the NVIDIA driver and CUDA 13 the engine needs; null for the EMR default."
  type        = string
  default     = null

  validation {
    condition     = var.custom_ami_id == null || can(regex("^ami-[0-9a-f]+$", var.custom_ami_id))
    error_message = "custom_ami_id must be null or an AMI id (ami-...)."
  }
}

variable "extra_spark_conf" {
  description = "Extra spark-submit --conf entries for both steps, each \"key=value\" (no quotes, braces or backslashes)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.extra_spark_conf : can(regex("^[A-Za-z0-9_.-]+=[^'{}\\\\]*$", c))])
    error_message = "Each extra_spark_conf entry must be key=value without quotes, braces or backslashes."
  }
}

# ---------------------------------------------------------------- job

variable "jar_key" {
  description = "Key of the assembly jar under the artifacts location."
  type        = string
  default     = "jobs/mtp-jobs-assembly.jar"

  validation {
    condition     = endswith(var.jar_key, ".jar") && can(regex("^[A-Za-z0-9_./-]+$", var.jar_key))
    error_message = "jar_key must be a relative key ending in .jar (letters, digits, _ . / -)."
  }
}

variable "model_key" {
  description = "Key prefix of the model folder under the models location, ending in /."
  type        = string
  default     = "stories260K/"

  validation {
    condition     = endswith(var.model_key, "/") && can(regex("^[A-Za-z0-9_./-]+$", var.model_key))
    error_message = "model_key must be a relative key prefix ending in / (letters, digits, _ . / -)."
  }
}

variable "adapter_key" {
  description = "Optional key of an adapter .safetensors file under the models location; null runs the base model."
  type        = string
  default     = null

  validation {
    condition     = var.adapter_key == null || can(regex("^[A-Za-z0-9_./-]+\\.safetensors$", var.adapter_key))
    error_message = "adapter_key must be null or a relative key ending in .safetensors."
  }
}

variable "decoder" {
  description = "GenerateJob --decoder: auto (default: the engine picks autoregressive, linear or quadratic and k per step for the hardware and batch, from a cost calibration and the adapter's acceptance table), or a fixed autoregressive, linear or quadratic."
  type        = string
  default     = "auto"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.decoder))
    error_message = "decoder must be a lowercase name such as quadratic."
  }
}

variable "draft_k" {
  description = "GenerateJob --k: tokens proposed per step by a fixed multi-token decoder; with decoder auto, the largest k it may choose."
  type        = number
  default     = 8

  validation {
    condition     = var.draft_k >= 1 && var.draft_k <= 64 && floor(var.draft_k) == var.draft_k
    error_message = "draft_k must be an integer from 1 to 64."
  }
}

variable "batch_size" {
  description = "GenerateJob --batch-size: sequences each task decodes together (outputs do not depend on it)."
  type        = number
  default     = 1

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 1024 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be an integer from 1 to 1024."
  }
}

variable "backend" {
  description = "GenerateJob --backend: auto picks CUDA when a GPU is usable and says so loudly when it falls back."
  type        = string
  default     = "auto"

  validation {
    condition     = contains(["auto", "cuda", "cpu"], var.backend)
    error_message = "backend must be auto, cuda or cpu."
  }
}

# ---------------------------------------------------------------- schedule and alerts

variable "schedule_expression" {
  description = "EventBridge Scheduler expression for the runs, e.g. cron(0 2 * * ? *) for 02:00 every day."
  type        = string
  default     = "cron(0 2 * * ? *)"

  validation {
    condition     = can(regex("^(cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)|rate\\([0-9]+ (minute|minutes|hour|hours|day|days)\\)|at\\([0-9T:-]+\\))$", var.schedule_expression))
    error_message = "schedule_expression must be cron(min hour day-of-month month day-of-week year), rate(n unit) or at(yyyy-mm-ddThh:mm:ss)."
  }
}

variable "schedule_timezone" {
  description = "IANA time zone of schedule_expression."
  type        = string
  default     = "UTC"
}

variable "schedule_enabled" {
  description = "Whether the schedule starts runs (false: deploy everything, start runs by hand)."
  type        = bool
  default     = true
}

variable "sns_topic_arn" {
  description = "Existing SNS topic ARN for failure reports; null creates a KMS-encrypted topic (subscribe to it yourself)."
  type        = string
  default     = null

  validation {
    condition     = var.sns_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.sns_topic_arn))
    error_message = "sns_topic_arn must be null or an SNS topic ARN."
  }
}
