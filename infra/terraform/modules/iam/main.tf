# Two roles, least privilege:
#   copy   - assumed by Redshift for COPY: reads the lake's raw zone and the Redshift
#            loader's staging area (shopdw COPYs the validated rows of each raw file from
#            <prefix>/_staging/redshift/, as Parquet listed in a manifest), nothing else.
#   runner - assumed by the pipeline runner: writes raw and the staging area, reads the
#            whole lake, reads the warehouse admin secret, publishes shopdw's metrics and
#            notifications.

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  prefix     = trim(var.lake_prefix, "/")
  raw_prefix = local.prefix == "" ? "raw/" : "${local.prefix}/raw/"
  # Where shopdw.warehouse.redshift stages COPY input (STAGING_PREFIX there).
  copy_staging_prefix = local.prefix == "" ? "_staging/redshift/" : "${local.prefix}/_staging/redshift/"
  lake_keys           = local.prefix == "" ? "*" : "${local.prefix}/*"
}

################################################################################
# Redshift COPY role
################################################################################

data "aws_iam_policy_document" "copy_trust" {
  statement {
    sid     = "RedshiftAssumesForCopy"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "copy" {
  name                 = "${var.name}-redshift-copy"
  description          = "Assumed by Redshift Serverless to COPY shopdw batches from the lake (read-only: raw zone and COPY staging)"
  assume_role_policy   = data.aws_iam_policy_document.copy_trust.json
  max_session_duration = 3600

  tags = var.tags
}

data "aws_iam_policy_document" "copy" {
  statement {
    sid     = "ReadRawAndCopyStaging"
    actions = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [
      "${var.lake_bucket_arn}/${local.raw_prefix}*",
      "${var.lake_bucket_arn}/${local.copy_staging_prefix}*",
    ]
  }

  statement {
    sid       = "ListRawAndCopyStaging"
    actions   = ["s3:ListBucket"]
    resources = [var.lake_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.raw_prefix, "${local.raw_prefix}*", local.copy_staging_prefix, "${local.copy_staging_prefix}*"]
    }
  }

  statement {
    sid       = "LocateBucket"
    actions   = ["s3:GetBucketLocation"]
    resources = [var.lake_bucket_arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "DecryptLakeObjects"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_policy" "copy" {
  name        = "${var.name}-redshift-copy"
  description = "Read-only access to the shopdw lake's raw zone and COPY staging area for Redshift COPY"
  policy      = data.aws_iam_policy_document.copy.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "copy" {
  role       = aws_iam_role.copy.name
  policy_arn = aws_iam_policy.copy.arn
}

################################################################################
# Pipeline runner role
################################################################################

data "aws_iam_policy_document" "runner_trust" {
  statement {
    sid     = "RunnerComputeAssumes"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = var.runner_trusted_services
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  dynamic "statement" {
    for_each = length(var.runner_trusted_role_arns) == 0 ? [] : [var.runner_trusted_role_arns]

    content {
      sid     = "TrustedRolesAssume"
      actions = ["sts:AssumeRole"]

      principals {
        type        = "AWS"
        identifiers = statement.value
      }
    }
  }
}

resource "aws_iam_role" "runner" {
  name                 = "${var.name}-runner"
  description          = "Assumed by the shopdw pipeline runner: write raw, read the lake, connect to the warehouse"
  assume_role_policy   = data.aws_iam_policy_document.runner_trust.json
  max_session_duration = 3600

  tags = var.tags
}

data "aws_iam_policy_document" "runner" {
  statement {
    sid     = "WriteRawBatchesAndCopyStaging"
    actions = ["s3:PutObject"]
    resources = [
      "${var.lake_bucket_arn}/${local.raw_prefix}*",
      "${var.lake_bucket_arn}/${local.copy_staging_prefix}*",
    ]
  }

  statement {
    sid       = "ReadLake"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.lake_bucket_arn}/${local.lake_keys}"]
  }

  # No s3:prefix condition here on purpose: S3 answers HeadObject on a missing key with 404
  # only to callers allowed to list the bucket, and a HeadObject request carries no
  # s3:prefix. shopdw's lake checks a file's existence before every write (immutability),
  # so a conditional ListBucket would turn every "not there yet" into AccessDenied. The
  # bucket holds the lake only; listing reveals key names, never content.
  statement {
    sid       = "ListLake"
    actions   = ["s3:ListBucket"]
    resources = [var.lake_bucket_arn]
  }

  statement {
    sid       = "LocateBucket"
    actions   = ["s3:GetBucketLocation"]
    resources = [var.lake_bucket_arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "UseLakeAndSecretKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "ReadWarehouseAdminSecret"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [var.warehouse_admin_secret_arn]
  }

  statement {
    sid       = "TemporaryWarehouseCredentials"
    actions   = ["redshift-serverless:GetCredentials", "redshift-serverless:GetWorkgroup"]
    resources = [var.warehouse_workgroup_arn]
  }

  statement {
    sid       = "PublishNotifications"
    actions   = ["sns:Publish"]
    resources = [var.sns_topic_arn]
  }

  # PutMetricData has no resource-level permissions; the namespace condition keeps the
  # runner to shopdw's own metrics (HoursSinceLastLoad and friends).
  statement {
    sid       = "PublishShopdwMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.metric_namespace]
    }
  }
}

resource "aws_iam_policy" "runner" {
  name        = "${var.name}-runner"
  description = "shopdw runner: write raw, read the lake, read the warehouse secret, publish metrics and notifications"
  policy      = data.aws_iam_policy_document.runner.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "runner" {
  role       = aws_iam_role.runner.name
  policy_arn = aws_iam_policy.runner.arn
}
