# Optional (off by default): a Glue Data Catalog database and a crawler over the lake's raw
# zone, so Athena or Redshift Spectrum can query raw batches in place.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  raw_prefix = trim(var.raw_prefix, "/")
  bucket     = element(split(":::", var.lake_bucket_arn), 1)
}

resource "aws_glue_catalog_database" "this" {
  count = var.create ? 1 : 0

  name        = var.database_name
  description = "shopdw raw zone (bronze) of s3://${local.bucket}/${local.raw_prefix}/"

  tags = var.tags
}

resource "aws_glue_security_configuration" "this" {
  count = var.create ? 1 : 0

  name = "${var.name}-crawler"

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = var.kms_key_arn
    }

    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = var.kms_key_arn
    }

    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = var.kms_key_arn
    }
  }
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "GlueAssumes"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name                 = "${var.name}-glue-crawler"
  description          = "Assumed by the Glue crawler over the shopdw raw zone (read-only)"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ReadRawObjects"
    actions   = ["s3:GetObject"]
    resources = ["${var.lake_bucket_arn}/${local.raw_prefix}/*"]
  }

  statement {
    sid       = "ListRawZone"
    actions   = ["s3:ListBucket"]
    resources = [var.lake_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.raw_prefix}/", "${local.raw_prefix}/*"]
    }
  }

  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "EncryptCrawlerLogs"
    actions   = ["logs:AssociateKmsKey"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/crawlers-role/*"]
  }
}

resource "aws_iam_policy" "this" {
  count = var.create ? 1 : 0

  name        = "${var.name}-glue-crawler"
  description = "Read-only access to the shopdw raw zone for the Glue crawler"
  policy      = data.aws_iam_policy_document.this.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "this" {
  count = var.create ? 1 : 0

  role       = aws_iam_role.this[0].name
  policy_arn = aws_iam_policy.this[0].arn
}

resource "aws_iam_role_policy_attachment" "service" {
  count = var.create ? 1 : 0

  role       = aws_iam_role.this[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSGlueServiceRole"
}

resource "aws_glue_crawler" "this" {
  count = var.create ? 1 : 0

  name                   = "${var.name}-raw"
  description            = "Catalogs shopdw raw batches: one table per entity, partitioned by ingest_date"
  database_name          = aws_glue_catalog_database.this[0].name
  role                   = aws_iam_role.this[0].arn
  schedule               = var.schedule
  security_configuration = aws_glue_security_configuration.this[0].name

  s3_target {
    path       = "s3://${local.bucket}/${local.raw_prefix}/"
    exclusions = ["**/_*", "**/.*"]
  }

  schema_change_policy {
    update_behavior = "UPDATE_IN_DATABASE"
    delete_behavior = "LOG"
  }

  recrawl_policy {
    recrawl_behavior = "CRAWL_NEW_FOLDERS_ONLY"
  }

  configuration = jsonencode({
    Version  = 1
    Grouping = { TableLevelConfiguration = length(split("/", local.raw_prefix)) + 2 }
  })

  tags = var.tags
}
