# shopdw staging: the lake (S3), the warehouse (Redshift Serverless), their network, IAM,
# monitoring and the optional Glue catalog. `terraform output -json` feeds
# scripts/terraform_env.py, which prints the SHOPDW_* settings for `shopdw run --target redshift`.

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Project     = "shopdw"
      Environment = var.environment
      ManagedBy   = "terraform"
    })
  }
}

data "aws_caller_identity" "current" {}

locals {
  name        = "shopdw-${var.environment}"
  bucket_name = coalesce(var.lake_bucket_name, "shopdw-${var.environment}-lake-${data.aws_caller_identity.current.account_id}")
}

module "kms" {
  source = "../../modules/kms"

  name                    = local.name
  deletion_window_in_days = var.kms_deletion_window_in_days
}

module "lake" {
  source = "../../modules/lake"

  bucket_name                        = local.bucket_name
  prefix                             = var.lake_prefix
  kms_key_arn                        = module.kms.key_arn
  raw_infrequent_access_after_days   = var.raw_infrequent_access_after_days
  raw_archive_after_days             = var.raw_archive_after_days
  raw_archive_storage_class          = var.raw_archive_storage_class
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  log_retention_days                 = var.log_retention_days
  force_destroy                      = var.force_destroy
}

module "network" {
  source = "../../modules/network"

  name                     = local.name
  cidr                     = var.vpc_cidr
  azs                      = var.azs != null ? var.azs : ["${var.region}a", "${var.region}b", "${var.region}c"]
  private_subnet_cidrs     = var.private_subnet_cidrs
  warehouse_port           = var.redshift_port
  interface_endpoints      = var.interface_endpoints
  flow_log_destination_arn = module.lake.flow_log_destination_arn
}

module "iam" {
  source = "../../modules/iam"

  name                       = local.name
  lake_bucket_arn            = module.lake.bucket_arn
  lake_prefix                = module.lake.prefix
  kms_key_arn                = module.kms.key_arn
  warehouse_workgroup_arn    = module.warehouse.workgroup_arn
  warehouse_admin_secret_arn = module.warehouse.admin_password_secret_arn
  sns_topic_arn              = module.monitoring.sns_topic_arn
  runner_trusted_services    = var.runner_trusted_services
  runner_trusted_role_arns   = var.runner_trusted_role_arns
}

module "warehouse" {
  source = "../../modules/warehouse"

  name                      = local.name
  database_name             = var.redshift_database
  admin_username            = var.redshift_admin_username
  kms_key_arn               = module.kms.key_arn
  copy_role_arn             = module.iam.copy_role_arn
  base_capacity             = var.redshift_base_capacity
  max_capacity              = var.redshift_max_capacity
  port                      = var.redshift_port
  subnet_ids                = module.network.private_subnet_ids
  security_group_ids        = [module.network.warehouse_security_group_id]
  usage_limit_rpu_hours     = var.redshift_usage_limit_rpu_hours
  usage_limit_period        = var.redshift_usage_limit_period
  usage_limit_breach_action = var.redshift_usage_limit_breach_action
}

module "monitoring" {
  source = "../../modules/monitoring"

  name                         = local.name
  environment                  = var.environment
  workgroup_name               = module.warehouse.workgroup_name
  kms_key_arn                  = module.kms.key_arn
  alarm_emails                 = var.alarm_emails
  rpu_hours_per_hour_threshold = var.rpu_hours_per_hour_threshold
  freshness_threshold_hours    = var.freshness_threshold_hours
  monthly_budget_usd           = var.monthly_budget_usd
}

module "glue" {
  source = "../../modules/glue"

  create          = var.enable_glue
  name            = local.name
  database_name   = "shopdw_${var.environment}_raw"
  lake_bucket_arn = module.lake.bucket_arn
  raw_prefix      = module.lake.raw_prefix
  kms_key_arn     = module.kms.key_arn
  schedule        = var.glue_crawler_schedule
}
