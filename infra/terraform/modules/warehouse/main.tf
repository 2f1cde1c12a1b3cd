# Redshift Serverless: a namespace (the data, the admin user whose password AWS generates
# and keeps in Secrets Manager, audit logs) and a workgroup (the compute, private only,
# with enhanced VPC routing so COPY from S3 stays on the S3 gateway endpoint).

resource "aws_redshiftserverless_namespace" "this" {
  namespace_name = var.name
  db_name        = var.database_name

  admin_username                   = var.admin_username
  manage_admin_password            = true
  admin_password_secret_kms_key_id = var.kms_key_arn

  kms_key_id           = var.kms_key_arn
  iam_roles            = [var.copy_role_arn]
  default_iam_role_arn = var.copy_role_arn

  # Audit logging: connections, users and every statement, exported to CloudWatch Logs.
  log_exports = var.log_exports

  tags = var.tags
}

resource "aws_redshiftserverless_workgroup" "this" {
  namespace_name = aws_redshiftserverless_namespace.this.namespace_name
  workgroup_name = var.name

  base_capacity = var.base_capacity
  max_capacity  = var.max_capacity
  port          = var.port

  publicly_accessible  = false
  enhanced_vpc_routing = true
  subnet_ids           = var.subnet_ids
  security_group_ids   = var.security_group_ids

  config_parameter {
    parameter_key   = "require_ssl"
    parameter_value = "true"
  }

  config_parameter {
    parameter_key   = "enable_user_activity_logging"
    parameter_value = "true"
  }

  config_parameter {
    parameter_key   = "auto_mv"
    parameter_value = "true"
  }

  config_parameter {
    parameter_key   = "datestyle"
    parameter_value = "ISO, MDY"
  }

  config_parameter {
    parameter_key   = "enable_case_sensitive_identifier"
    parameter_value = "false"
  }

  config_parameter {
    parameter_key   = "max_query_execution_time"
    parameter_value = tostring(var.max_query_execution_time)
  }

  config_parameter {
    parameter_key   = "query_group"
    parameter_value = "default"
  }

  config_parameter {
    parameter_key   = "search_path"
    parameter_value = "$user, public"
  }

  tags = var.tags
}

# The spending guard: RPU-hours per period; the breach action decides whether the
# workgroup only logs, emits a metric, or stops accepting queries.
resource "aws_redshiftserverless_usage_limit" "this" {
  resource_arn  = aws_redshiftserverless_workgroup.this.arn
  usage_type    = "serverless-compute"
  amount        = var.usage_limit_rpu_hours
  period        = var.usage_limit_period
  breach_action = var.usage_limit_breach_action
}
