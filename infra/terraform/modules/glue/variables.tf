variable "create" {
  description = "Create the Glue catalog database and crawler over the raw zone (off by default)."
  type        = bool
  default     = false
}

variable "name" {
  description = "Name prefix of the crawler, its role and security configuration (e.g. shopdw-dev)."
  type        = string
}

variable "database_name" {
  description = "Name of the Glue catalog database."
  type        = string
  default     = "shopdw_raw"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.database_name))
    error_message = "database_name must be lower-case letters, digits and '_' (Athena-compatible)."
  }
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.lake_bucket_arn))
    error_message = "lake_bucket_arn must be a bucket ARN such as arn:aws:s3:::my-bucket."
  }
}

variable "raw_prefix" {
  description = "Key prefix of the raw zone in the bucket (e.g. shopdw/raw/)."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the KMS key encrypting the lake, the crawler logs and its bookmarks."
  type        = string
}

variable "schedule" {
  description = "Cron schedule of the crawler, e.g. cron(30 6 * * ? *); null runs it on demand only."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
