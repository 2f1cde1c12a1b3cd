variable "name" {
  description = "Name prefix of the topic, alarms and budget (e.g. shopdw-dev)."
  type        = string
}

variable "environment" {
  description = "Environment name; the value of the Environment dimension of shopdw's HoursSinceLastLoad metric (SHOPDW environment: dev, staging, prod)."
  type        = string
}

variable "workgroup_name" {
  description = "Redshift Serverless workgroup whose metrics the alarms watch."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the SNS topic; its policy must let cloudwatch.amazonaws.com and budgets.amazonaws.com use it (the kms module's does)."
  type        = string
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alert topic and the budget alerts (each must confirm the subscription)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_emails must be e-mail addresses."
  }
}

variable "metric_namespace" {
  description = "CloudWatch namespace of the metrics shopdw publishes."
  type        = string
  default     = "shopdw"
}

variable "rpu_hours_per_hour_threshold" {
  description = "Alarm when the workgroup uses more RPU-hours than this within one hour (base capacity times 1 hour is a busy hour)."
  type        = number
  default     = 16

  validation {
    condition     = var.rpu_hours_per_hour_threshold > 0
    error_message = "rpu_hours_per_hour_threshold must be positive."
  }
}

variable "failed_queries_threshold" {
  description = "Alarm when more queries than this fail within five minutes."
  type        = number
  default     = 0

  validation {
    condition     = var.failed_queries_threshold >= 0
    error_message = "failed_queries_threshold must be zero or more."
  }
}

variable "freshness_threshold_hours" {
  description = "Alarm when shopdw reports that no new lake file was loaded for more than this many hours."
  type        = number
  default     = 30

  validation {
    condition     = var.freshness_threshold_hours > 0
    error_message = "freshness_threshold_hours must be positive."
  }
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget in USD; alerts at 80 percent actual and 100 percent forecast."
  type        = number

  validation {
    condition     = var.monthly_budget_usd > 0
    error_message = "monthly_budget_usd must be positive."
  }
}

variable "budget_cost_allocation_tag" {
  description = "Limit the budget to costs carrying this cost allocation tag (activate the tag in Billing first); null counts the whole account, the right choice with one account per environment."
  type = object({
    key   = string
    value = string
  })
  default = null
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
