output "sns_topic_arn" {
  description = "ARN of the alert topic (SHOPDW_NOTIFY_SNS_TOPIC_ARN)."
  value       = aws_sns_topic.this.arn
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms, by purpose."
  value = {
    rpu_usage      = aws_cloudwatch_metric_alarm.rpu_usage.alarm_name
    failed_queries = aws_cloudwatch_metric_alarm.failed_queries.alarm_name
    load_freshness = aws_cloudwatch_metric_alarm.load_freshness.alarm_name
  }
}

output "budget_name" {
  description = "Name of the monthly cost budget."
  value       = aws_budgets_budget.this.name
}
