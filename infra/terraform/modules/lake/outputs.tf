output "bucket_name" {
  description = "Name of the lake bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the lake bucket."
  value       = aws_s3_bucket.this.arn
}

output "prefix" {
  description = "Key prefix of the lake inside the bucket (no leading or trailing slash)."
  value       = local.prefix
}

output "raw_prefix" {
  description = "Key prefix of the raw (bronze) zone, with a trailing slash."
  value       = local.raw_prefix
}

output "staging_prefix" {
  description = "Key prefix where shopdw's Redshift loader stages COPY input (expired after staging_expiration_days)."
  value       = local.staging_prefix
}

output "lake_uri" {
  description = "The lake URI shopdw reads (SHOPDW_LAKE)."
  value       = local.prefix == "" ? "s3://${aws_s3_bucket.this.id}" : "s3://${aws_s3_bucket.this.id}/${local.prefix}"
}

output "log_bucket_name" {
  description = "Name of the bucket holding server access logs and VPC flow logs."
  value       = aws_s3_bucket.logs.id
}

output "log_bucket_arn" {
  description = "ARN of the log bucket."
  value       = aws_s3_bucket.logs.arn
}

output "flow_log_destination_arn" {
  description = "S3 destination (bucket ARN and prefix) for VPC flow logs, matching the log bucket's policy."
  value       = "${aws_s3_bucket.logs.arn}/vpc-flow-logs/"
}
