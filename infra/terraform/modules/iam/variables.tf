variable "name" {
  description = "Name prefix of the roles and policies (e.g. shopdw-dev)."
  type        = string
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.lake_bucket_arn))
    error_message = "lake_bucket_arn must be a bucket ARN such as arn:aws:s3:::my-bucket (no key part)."
  }
}

variable "lake_prefix" {
  description = "Key prefix of the lake in the bucket; the raw zone is <lake_prefix>/raw/."
  type        = string
  default     = "shopdw"
}

variable "kms_key_arn" {
  description = "ARN of the KMS key encrypting the lake and the warehouse admin secret; null when they use AWS-managed keys."
  type        = string
  default     = null
}

variable "warehouse_workgroup_arn" {
  description = "ARN of the Redshift Serverless workgroup the runner connects to."
  type        = string
}

variable "warehouse_admin_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the warehouse admin credentials (managed by Redshift)."
  type        = string
}

variable "sns_topic_arn" {
  description = "ARN of the SNS topic shopdw's notifications publish to."
  type        = string
}

variable "metric_namespace" {
  description = "CloudWatch namespace the runner may publish metrics to."
  type        = string
  default     = "shopdw"
}

variable "runner_trusted_services" {
  description = "AWS service principals whose compute may assume the runner role (e.g. ecs-tasks.amazonaws.com, ec2.amazonaws.com, airflow-env.amazonaws.com)."
  type        = list(string)
  default     = ["ecs-tasks.amazonaws.com"]

  validation {
    condition     = length(var.runner_trusted_services) > 0 && alltrue([for s in var.runner_trusted_services : can(regex("^[a-z0-9.-]+\\.amazonaws\\.com$", s))])
    error_message = "runner_trusted_services must list service principals such as ecs-tasks.amazonaws.com."
  }
}

variable "runner_trusted_role_arns" {
  description = "IAM role ARNs that may also assume the runner role (e.g. an operator's SSO role); empty for none."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.runner_trusted_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])
    error_message = "runner_trusted_role_arns entries must be IAM role ARNs."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
