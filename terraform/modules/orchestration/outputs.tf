output "state_machine_arn" {
  description = "ARN of the generation state machine (start it by hand with aws stepfunctions start-execution)."
  value       = aws_sfn_state_machine.generation.arn
}

output "sns_topic_arn" {
  description = "SNS topic that receives failure reports."
  value       = local.topic_arn
}

output "schedule_name" {
  description = "Name of the EventBridge Scheduler schedule."
  value       = aws_scheduler_schedule.generation.name
}
