output "run_job_flow" {
  description = "RunJobFlow parameters (without Name) for the Step Functions createCluster.sync task."
  value       = local.run_job_flow
}

output "spark_submit_prefix" {
  description = "spark-submit command and GPU scheduling --conf arguments that every step starts with."
  value       = local.spark_submit_prefix
}

output "security_configuration_name" {
  description = "Name of the EMR security configuration (SSE-KMS for EMRFS, KMS-encrypted local disks)."
  value       = aws_emr_security_configuration.this.name
}
