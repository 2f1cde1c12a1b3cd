variable "name" {
  description = "Name of the Redshift Serverless namespace and workgroup (e.g. shopdw-dev)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]{3,64}$", var.name))
    error_message = "name must be 3-64 lower-case letters, digits or hyphens (a Redshift Serverless rule)."
  }
}

variable "database_name" {
  description = "Database created in the namespace (SHOPDW_REDSHIFT_DATABASE)."
  type        = string
  default     = "shopdw"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_$]{0,126}$", var.database_name))
    error_message = "database_name must start with a lower-case letter or '_' and hold letters, digits, '_' or '$'."
  }
}

variable "admin_username" {
  description = "Admin user of the namespace; AWS generates its password and stores it in Secrets Manager."
  type        = string
  default     = "shopdw_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,126}$", var.admin_username)) && !contains(["admin", "rdsadmin", "public"], var.admin_username)
    error_message = "admin_username must start with a letter, hold lower-case letters, digits or '_', and not be a reserved word."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the namespace and the admin secret; null uses AWS-owned keys."
  type        = string
  default     = null
}

variable "copy_role_arn" {
  description = "ARN of the IAM role Redshift assumes for COPY from the lake; also the namespace's default IAM role."
  type        = string
}

variable "log_exports" {
  description = "Audit logs exported to CloudWatch Logs (userlog, connectionlog, useractivitylog)."
  type        = list(string)
  default     = ["userlog", "connectionlog", "useractivitylog"]

  validation {
    condition     = length(var.log_exports) > 0 && alltrue([for l in var.log_exports : contains(["userlog", "connectionlog", "useractivitylog"], l)])
    error_message = "log_exports must list one or more of userlog, connectionlog, useractivitylog."
  }
}

variable "base_capacity" {
  description = "Base capacity of the workgroup in RPUs (8 to 1024, in steps of 8)."
  type        = number
  default     = 8

  validation {
    condition     = var.base_capacity >= 8 && var.base_capacity <= 1024 && var.base_capacity % 8 == 0
    error_message = "base_capacity must be a multiple of 8 between 8 and 1024."
  }
}

variable "max_capacity" {
  description = "Upper bound of automatic scaling in RPUs; null leaves it to AWS."
  type        = number
  default     = null

  validation {
    condition     = var.max_capacity == null ? true : (var.max_capacity >= 8 && var.max_capacity <= 1024 && var.max_capacity % 8 == 0)
    error_message = "max_capacity must be null or a multiple of 8 between 8 and 1024."
  }
}

variable "max_query_execution_time" {
  description = "Seconds after which a query is cancelled (a runaway-cost guard)."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_query_execution_time >= 60
    error_message = "max_query_execution_time must be at least 60 seconds."
  }
}

variable "port" {
  description = "Port of the workgroup endpoint (SHOPDW_REDSHIFT_PORT)."
  type        = number
  default     = 5439
}

variable "subnet_ids" {
  description = "Private subnet IDs of the workgroup, in three availability zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 3
    error_message = "Redshift Serverless needs subnets in at least three availability zones."
  }
}

variable "security_group_ids" {
  description = "Security groups of the workgroup (the network module's warehouse group)."
  type        = list(string)
}

variable "usage_limit_rpu_hours" {
  description = "RPU-hours the workgroup may use per usage_limit_period before the breach action applies."
  type        = number

  validation {
    condition     = var.usage_limit_rpu_hours >= 1 && floor(var.usage_limit_rpu_hours) == var.usage_limit_rpu_hours
    error_message = "usage_limit_rpu_hours must be a whole number of at least 1."
  }
}

variable "usage_limit_period" {
  description = "Period of the usage limit: daily, weekly or monthly."
  type        = string
  default     = "daily"

  validation {
    condition     = contains(["daily", "weekly", "monthly"], var.usage_limit_period)
    error_message = "usage_limit_period must be daily, weekly or monthly."
  }
}

variable "usage_limit_breach_action" {
  description = "What happens when the usage limit is reached: log, emit-metric or deactivate (stop serving queries)."
  type        = string
  default     = "emit-metric"

  validation {
    condition     = contains(["log", "emit-metric", "deactivate"], var.usage_limit_breach_action)
    error_message = "usage_limit_breach_action must be log, emit-metric or deactivate."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
