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
  description = "Customer-managed KMS key for the SNS topic and the state machine log group."
  type        = string
}

variable "run_job_flow" {
  description = "RunJobFlow parameters from the emr module."
  type        = any
}

variable "spark_submit_prefix" {
  description = "spark-submit command and --conf arguments from the emr module."
  type        = list(string)
}

variable "emr_service_role_arn" {
  description = "EMR service role the state machine passes to EMR."
  type        = string
}

variable "emr_ec2_role_arn" {
  description = "Role of the EC2 instance profile the state machine passes to EMR."
  type        = string
}

variable "jar_key" {
  description = "Key of the assembly jar under the artifacts location."
  type        = string
}

variable "model_key" {
  description = "Key prefix of the model folder under the models location, ending in /."
  type        = string
}

variable "adapter_key" {
  description = "Key of the adapter .safetensors under the models location; null for none."
  type        = string
}

variable "decoder" {
  description = "GenerateJob --decoder."
  type        = string
}

variable "draft_k" {
  description = "GenerateJob --k."
  type        = number
}

variable "batch_size" {
  description = "GenerateJob --batch-size."
  type        = number
}

variable "backend" {
  description = "GenerateJob --backend."
  type        = string
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression, e.g. cron(0 2 * * ? *)."
  type        = string
}

variable "schedule_timezone" {
  description = "IANA time zone of the schedule expression."
  type        = string
}

variable "schedule_enabled" {
  description = "Whether the schedule starts runs."
  type        = bool
}

variable "sns_topic_arn" {
  description = "Existing SNS topic for failure reports; null to create one."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the state machine's CloudWatch log group."
  type        = number
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
}

variable "gpu_instance_type" {
  description = "GPU instance type of the cluster's core and task nodes; GenerateJob records it in the run manifest (--instance-type) and ReportJob prices the run by it."
  type        = string
}
