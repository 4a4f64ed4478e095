output "primary_security_group_id" {
  description = "EMR managed security group of the primary node."
  value       = aws_security_group.primary.id
}

output "workers_security_group_id" {
  description = "EMR managed security group of the core and task nodes."
  value       = aws_security_group.workers.id
}

output "service_access_security_group_id" {
  description = "EMR service access security group (required in private subnets)."
  value       = aws_security_group.service_access.id
}
