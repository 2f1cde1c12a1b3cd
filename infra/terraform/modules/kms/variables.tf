variable "name" {
  description = "Name of the environment's resources (e.g. shopdw-dev); the key alias becomes alias/<name>."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{1,200}$", var.name))
    error_message = "name may contain letters, digits, '/', '_' and '-' only."
  }
}

variable "deletion_window_in_days" {
  description = "Days a scheduled key deletion waits before the key (and every object encrypted with it) is gone for good."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
