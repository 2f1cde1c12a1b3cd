variable "name" {
  description = "Name prefix of the network resources (e.g. shopdw-dev)."
  type        = string
}

variable "cidr" {
  description = "IPv4 CIDR block of the VPC."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr, 0))
    error_message = "cidr must be an IPv4 CIDR block such as 10.40.0.0/16."
  }
}

variable "azs" {
  description = "Exactly three availability zones for the private subnets (Redshift Serverless needs subnets in three AZs), e.g. [\"eu-west-1a\", \"eu-west-1b\", \"eu-west-1c\"]."
  type        = list(string)

  validation {
    condition     = length(var.azs) == 3 && length(distinct(var.azs)) == 3
    error_message = "azs must list exactly three distinct availability zones."
  }
}

variable "private_subnet_cidrs" {
  description = "Three IPv4 CIDR blocks inside cidr, one private subnet per availability zone."
  type        = list(string)
  default     = ["10.40.0.0/20", "10.40.16.0/20", "10.40.32.0/20"]

  validation {
    condition     = length(var.private_subnet_cidrs) == 3
    error_message = "private_subnet_cidrs must list exactly three CIDR blocks."
  }
}

variable "warehouse_port" {
  description = "TCP port of the Redshift Serverless workgroup; the only port the warehouse group admits."
  type        = number
  default     = 5439

  validation {
    condition     = (var.warehouse_port >= 5431 && var.warehouse_port <= 5455) || (var.warehouse_port >= 8191 && var.warehouse_port <= 8215)
    error_message = "Redshift Serverless ports are 5431-5455 or 8191-8215."
  }
}

variable "interface_endpoints" {
  description = "AWS services reached through interface endpoints from the private subnets (the VPC has no NAT), e.g. secretsmanager, sns, monitoring, sts. Each costs about 7.3 USD a month per AZ."
  type        = list(string)
  default     = ["secretsmanager", "sns", "monitoring", "sts"]

  validation {
    condition     = alltrue([for s in var.interface_endpoints : can(regex("^[a-z0-9.-]+$", s))])
    error_message = "interface_endpoints entries are service names such as secretsmanager or sts."
  }
}

variable "flow_log_destination_arn" {
  description = "S3 ARN (bucket ARN and prefix) that receives the VPC flow logs; its bucket policy must admit delivery.logs.amazonaws.com."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
