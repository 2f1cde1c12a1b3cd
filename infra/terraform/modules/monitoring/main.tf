# Alarms to one SNS topic: warehouse RPU usage, failed queries, and the load-freshness
# metric shopdw publishes after each run (namespace "shopdw", metric HoursSinceLastLoad,
# dimension Environment). The same topic is where shopdw's notifications go
# (SHOPDW_NOTIFY_SNS_TOPIC_ARN), and where the monthly budget alerts land.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  alarm_actions = [aws_sns_topic.this.arn]
}

resource "aws_sns_topic" "this" {
  name              = "${var.name}-alerts"
  display_name      = "shopdw ${var.environment} alerts"
  kms_master_key_id = var.kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "AccountPublishes"
    actions   = ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "AlarmsAndBudgetsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "this" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.value
}

################################################################################
# Alarms
################################################################################

resource "aws_cloudwatch_metric_alarm" "rpu_usage" {
  alarm_name        = "${var.name}-warehouse-rpu-usage"
  alarm_description = "Redshift Serverless workgroup ${var.workgroup_name} used more than ${var.rpu_hours_per_hour_threshold} RPU-hours in an hour."
  namespace         = "AWS/Redshift-Serverless"
  metric_name       = "ComputeSeconds"
  dimensions = {
    Workgroup = var.workgroup_name
  }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.rpu_hours_per_hour_threshold * 3600
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "failed_queries" {
  alarm_name        = "${var.name}-warehouse-failed-queries"
  alarm_description = "More than ${var.failed_queries_threshold} queries failed on ${var.workgroup_name} within 5 minutes."
  namespace         = "AWS/Redshift-Serverless"
  metric_name       = "QueriesFailed"
  dimensions = {
    Workgroup = var.workgroup_name
  }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.failed_queries_threshold
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# Missing data breaches: if shopdw stops running (and so stops publishing), the alarm fires.
resource "aws_cloudwatch_metric_alarm" "load_freshness" {
  alarm_name        = "${var.name}-load-freshness"
  alarm_description = "No new lake file has been loaded into the ${var.environment} warehouse for more than ${var.freshness_threshold_hours} hours, or shopdw has not reported for a day. Check the last run: shopdw status."
  namespace         = var.metric_namespace
  metric_name       = "HoursSinceLastLoad"
  dimensions = {
    Environment = var.environment
  }
  statistic           = "Maximum"
  period              = 86400
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.freshness_threshold_hours
  treat_missing_data  = "breaching"
  actions_enabled     = true
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

################################################################################
# Budget
################################################################################

resource "aws_budgets_budget" "this" {
  name         = "${var.name}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  dynamic "cost_filter" {
    for_each = var.budget_cost_allocation_tag == null ? [] : [var.budget_cost_allocation_tag]

    content {
      name   = "TagKeyValue"
      values = [format("user:%s$%s", cost_filter.value.key, cost_filter.value.value)]
    }
  }

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 80
    threshold_type             = "PERCENTAGE"
    notification_type          = "ACTUAL"
    subscriber_sns_topic_arns  = [aws_sns_topic.this.arn]
    subscriber_email_addresses = var.alarm_emails
  }

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 100
    threshold_type             = "PERCENTAGE"
    notification_type          = "FORECASTED"
    subscriber_sns_topic_arns  = [aws_sns_topic.this.arn]
    subscriber_email_addresses = var.alarm_emails
  }

  depends_on = [aws_sns_topic_policy.this]
}
