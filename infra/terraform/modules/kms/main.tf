# One customer-managed key per environment: the lake bucket, the SNS alarm topic, the
# Redshift namespace, its Secrets Manager admin secret and the optional Glue crawler logs
# all use it. CloudWatch alarms and AWS Budgets can only publish to an encrypted SNS topic
# when the key policy lets their service principals use the key, which an AWS-managed key
# (alias/aws/sns) never does.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}

resource "aws_kms_key" "this" {
  description             = "shopdw ${var.name}: lake, warehouse, alarm topic and secrets"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  is_enabled              = true

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersKeyThroughIAM"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid    = "AlarmsAndBudgetsPublishToEncryptedTopic"
        Effect = "Allow"
        Principal = {
          Service = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]
        }
        Action   = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
      {
        Sid       = "CloudWatchLogsEncryptGlueCrawlerLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.${data.aws_region.current.name}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${data.aws_region.current.name}:${local.account_id}:*"
          }
        }
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
