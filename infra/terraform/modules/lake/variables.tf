variable "bucket_name" {
  description = "Name of the lake bucket (globally unique). The log bucket is <bucket_name>-logs unless log_bucket_name is set."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,56}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-58 characters of lower-case letters, digits, '.' and '-' (room is left for the -logs suffix)."
  }
}

variable "log_bucket_name" {
  description = "Name of the bucket that receives server access logs and VPC flow logs; null means <bucket_name>-logs."
  type        = string
  default     = null
}

variable "prefix" {
  description = "Key prefix of the lake inside the bucket; shopdw's lake URI is s3://<bucket_name>/<prefix> and its raw zone <prefix>/raw/."
  type        = string
  default     = "shopdw"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]*(/[A-Za-z0-9_.-]+)*$", trim(var.prefix, "/")))
    error_message = "prefix may contain letters, digits, '_', '.', '-' and '/' between path segments."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer-managed KMS key for SSE-KMS; null uses the AWS-managed aws/s3 key."
  type        = string
  default     = null
}

variable "raw_infrequent_access_after_days" {
  description = "Days after creation when raw batches move to S3 Standard-IA (S3 requires at least 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_infrequent_access_after_days >= 30
    error_message = "raw_infrequent_access_after_days must be at least 30 (an S3 limit for STANDARD_IA)."
  }
}

variable "raw_archive_after_days" {
  description = "Days after creation when raw batches move to the archive storage class; must be at least 30 days after the Standard-IA transition."
  type        = number
  default     = 90
}

variable "raw_archive_storage_class" {
  description = "Archive storage class for old raw batches. GLACIER_IR keeps them readable by Redshift COPY and shopdw; GLACIER and DEEP_ARCHIVE need a restore before a reload."
  type        = string
  default     = "GLACIER_IR"

  validation {
    condition     = contains(["GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], var.raw_archive_storage_class)
    error_message = "raw_archive_storage_class must be GLACIER_IR, GLACIER or DEEP_ARCHIVE."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a superseded or deleted object version is kept before it expires."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "staging_expiration_days" {
  description = "Days the Redshift loader's staged COPY input (<prefix>/_staging/) is kept; it is derived from raw and only needed during a load."
  type        = number
  default     = 7

  validation {
    condition     = var.staging_expiration_days >= 1
    error_message = "staging_expiration_days must be at least 1."
  }
}

variable "log_retention_days" {
  description = "Days access logs and VPC flow logs are kept in the log bucket."
  type        = number
  default     = 365

  validation {
    condition     = var.log_retention_days >= 1
    error_message = "log_retention_days must be at least 1."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete the buckets with their objects (dev teardown). Keep false where data matters."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
