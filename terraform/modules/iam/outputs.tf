output "emr_service_role_arn" {
  description = "ARN of the EMR service role."
  value       = aws_iam_role.emr_service.arn
}

output "emr_service_role_name" {
  description = "Name of the EMR service role (RunJobFlow ServiceRole)."
  value       = aws_iam_role.emr_service.name
}

output "emr_ec2_role_arn" {
  description = "ARN of the role behind the EC2 instance profile."
  value       = aws_iam_role.emr_ec2.arn
}

output "emr_instance_profile_name" {
  description = "Name of the EC2 instance profile (RunJobFlow JobFlowRole)."
  value       = aws_iam_instance_profile.emr_ec2.name
}
