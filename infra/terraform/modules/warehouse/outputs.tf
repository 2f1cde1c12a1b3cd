output "namespace_name" {
  description = "Name of the Redshift Serverless namespace."
  value       = aws_redshiftserverless_namespace.this.namespace_name
}

output "namespace_arn" {
  description = "ARN of the Redshift Serverless namespace."
  value       = aws_redshiftserverless_namespace.this.arn
}

output "workgroup_name" {
  description = "Name of the Redshift Serverless workgroup (SHOPDW_REDSHIFT_WORKGROUP)."
  value       = aws_redshiftserverless_workgroup.this.workgroup_name
}

output "workgroup_arn" {
  description = "ARN of the Redshift Serverless workgroup."
  value       = aws_redshiftserverless_workgroup.this.arn
}

output "endpoint_address" {
  description = "Host name of the workgroup endpoint (SHOPDW_REDSHIFT_HOST); resolvable inside the VPC only."
  value       = aws_redshiftserverless_workgroup.this.endpoint[0].address
}

output "port" {
  description = "Port of the workgroup endpoint (SHOPDW_REDSHIFT_PORT)."
  value       = aws_redshiftserverless_workgroup.this.endpoint[0].port
}

output "database_name" {
  description = "Database of the namespace (SHOPDW_REDSHIFT_DATABASE)."
  value       = aws_redshiftserverless_namespace.this.db_name
}

output "admin_username" {
  description = "Admin user of the namespace (SHOPDW_REDSHIFT_USER)."
  # The provider marks the attribute sensitive; the name itself is not a secret.
  value = var.admin_username
}

output "admin_password_secret_arn" {
  description = "ARN of the Secrets Manager secret with the admin credentials (JSON with username and password); read it at run time."
  value       = aws_redshiftserverless_namespace.this.admin_password_secret_arn
}
