# scripts/terraform_env.py turns these into SHOPDW_* settings; keep the names in step.

output "environment" {
  description = "Environment name (the Environment dimension of shopdw's CloudWatch metrics)."
  value       = var.environment
}

output "region" {
  description = "AWS region of the environment (SHOPDW_REDSHIFT_REGION, SHOPDW_S3_REGION)."
  value       = var.region
}

output "lake_uri" {
  description = "The lake URI (SHOPDW_LAKE)."
  value       = module.lake.lake_uri
}

output "lake_bucket_name" {
  description = "Name of the lake bucket."
  value       = module.lake.bucket_name
}

output "log_bucket_name" {
  description = "Name of the bucket holding S3 access logs and VPC flow logs."
  value       = module.lake.log_bucket_name
}

output "kms_key_arn" {
  description = "ARN of the environment's KMS key."
  value       = module.kms.key_arn
}

output "redshift_host" {
  description = "Workgroup endpoint host (SHOPDW_REDSHIFT_HOST); resolvable inside the VPC only."
  value       = module.warehouse.endpoint_address
}

output "redshift_port" {
  description = "Workgroup endpoint port (SHOPDW_REDSHIFT_PORT)."
  value       = module.warehouse.port
}

output "redshift_database" {
  description = "Database name (SHOPDW_REDSHIFT_DATABASE)."
  value       = module.warehouse.database_name
}

output "redshift_workgroup" {
  description = "Workgroup name (SHOPDW_REDSHIFT_WORKGROUP)."
  value       = module.warehouse.workgroup_name
}

output "redshift_namespace" {
  description = "Namespace name."
  value       = module.warehouse.namespace_name
}

output "redshift_iam_role_arn" {
  description = "Role Redshift assumes for COPY from the raw zone (SHOPDW_REDSHIFT_IAM_ROLE_ARN)."
  value       = module.iam.copy_role_arn
}

output "redshift_admin_username" {
  description = "Admin user of the namespace (SHOPDW_REDSHIFT_USER)."
  value       = module.warehouse.admin_username
}

output "redshift_admin_secret_arn" {
  description = "Secrets Manager secret with the admin password; read it at run time, never store it."
  value       = module.warehouse.admin_password_secret_arn
}

output "sns_topic_arn" {
  description = "Alert topic for alarms, budgets and shopdw notifications (SHOPDW_NOTIFY_SNS_TOPIC_ARN)."
  value       = module.monitoring.sns_topic_arn
}

output "runner_role_arn" {
  description = "IAM role for the pipeline runner's compute."
  value       = module.iam.runner_role_arn
}

output "runner_security_group_id" {
  description = "Security group to attach to the pipeline runner's compute."
  value       = module.network.runner_security_group_id
}

output "private_subnet_ids" {
  description = "Private subnets where the runner's compute runs."
  value       = module.network.private_subnet_ids
}

output "glue_database_name" {
  description = "Glue catalog database over the raw zone, or null when enable_glue is false."
  value       = module.glue.database_name
}
