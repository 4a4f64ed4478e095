output "locations" {
  description = "s3:// URI per purpose (models, inputs, outputs, artifacts, logs)."
  value       = { for p, l in module.storage.locations : p => l.uri }
}

output "kms_key_arn" {
  description = "Customer-managed KMS key of the deployment."
  value       = module.storage.kms_key_arn
}

output "assembly_jar_uri" {
  description = "Where to upload mtp-jobs-assembly.jar."
  value       = "${module.storage.locations["artifacts"].uri}${var.jar_key}"
}

output "model_uri" {
  description = "Where to upload the model folder."
  value       = "${module.storage.locations["models"].uri}${var.model_key}"
}

output "spark_tarball_uri" {
  description = "Where to upload the Spark distribution when spark_runtime = \"custom\"."
  value       = "${module.storage.locations["artifacts"].uri}${var.spark_tarball_key}"
}

output "state_machine_arn" {
  description = "Generation state machine; start a run by hand with aws stepfunctions start-execution."
  value       = module.orchestration.state_machine_arn
}

output "sns_topic_arn" {
  description = "SNS topic that receives failure reports."
  value       = module.orchestration.sns_topic_arn
}

output "schedule_name" {
  description = "EventBridge Scheduler schedule that starts the runs."
  value       = module.orchestration.schedule_name
}
