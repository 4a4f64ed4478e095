variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
}

variable "locations" {
  description = "Storage locations per purpose as output by the storage module (bucket, bucket_arn, prefix, uri)."
  type = map(object({
    bucket     = string
    bucket_arn = string
    prefix     = string
    uri        = string
  }))
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for EMRFS at-rest encryption and local (EBS) disks."
  type        = string
}

variable "release_label" {
  description = "EMR release label, e.g. emr-7.12.0 (spark_runtime = \"custom\") or emr-spark-8.0.0 (spark_runtime = \"emr\")."
  type        = string
}

variable "spark_runtime" {
  description = "\"custom\": install our Spark distribution by bootstrap action; \"emr\": use the Spark of the EMR release."
  type        = string
}

variable "spark_tarball_key" {
  description = "Key, under the artifacts location, of the Spark distribution tarball used when spark_runtime = \"custom\"."
  type        = string
}

variable "java_home" {
  description = "JAVA_HOME of a Java 17 runtime on the EMR nodes, for the Spark driver and executors."
  type        = string
}

variable "primary_instance_type" {
  description = "Instance type of the primary node (no GPU needed)."
  type        = string
}

variable "gpu_instance_type" {
  description = "GPU instance type of the core and task nodes."
  type        = string
}

variable "gpus_per_node" {
  description = "GPUs in one gpu_instance_type node (1 for g5.xlarge ... g5.8xlarge, g6.xlarge; 4 for g5.12xlarge; 8 for p4d.24xlarge and p5.48xlarge)."
  type        = number
}

variable "core_instance_count" {
  description = "Number of on-demand GPU core nodes."
  type        = number
}

variable "task_instance_count" {
  description = "Number of GPU task nodes (0 for none)."
  type        = number
}

variable "task_market" {
  description = "Purchasing option of the task nodes: ON_DEMAND or SPOT."
  type        = string
}

variable "executor_cores" {
  description = "spark.executor.cores; one executor per GPU."
  type        = number
}

variable "executor_memory" {
  description = "spark.executor.memory, e.g. 24g."
  type        = string
}

variable "ebs_size_gb" {
  description = "Size of the gp3 EBS volume of each node, GiB."
  type        = number
}

variable "idle_timeout_seconds" {
  description = "EMR auto-termination: terminate a cluster idle for this long (safety net if the state machine is stopped)."
  type        = number
}

variable "cgroup_mount_path" {
  description = "Where YARN finds the cgroup devices hierarchy for GPU isolation."
  type        = string
}

variable "custom_ami_id" {
  description = "Custom AMI for the nodes (e.g. with a newer NVIDIA driver and CUDA); null for the EMR default AMI."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets; instance groups launch in the first one."
  type        = list(string)
}

variable "primary_security_group_id" {
  description = "EMR managed security group of the primary node."
  type        = string
}

variable "workers_security_group_id" {
  description = "EMR managed security group of the core and task nodes."
  type        = string
}

variable "service_access_security_group_id" {
  description = "EMR service access security group."
  type        = string
}

variable "service_role_name" {
  description = "EMR service role name."
  type        = string
}

variable "instance_profile_name" {
  description = "EC2 instance profile name."
  type        = string
}

variable "extra_spark_conf" {
  description = "Additional spark-submit --conf entries, each \"key=value\"."
  type        = list(string)
}

variable "tags" {
  description = "Tags applied to every taggable resource and to the clusters."
  type        = map(string)
}
