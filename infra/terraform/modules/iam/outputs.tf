output "copy_role_arn" {
  description = "ARN of the role Redshift assumes for COPY (SHOPDW_REDSHIFT_IAM_ROLE_ARN)."
  value       = aws_iam_role.copy.arn
}

output "copy_role_name" {
  description = "Name of the COPY role."
  value       = aws_iam_role.copy.name
}

output "runner_role_arn" {
  description = "ARN of the pipeline runner role."
  value       = aws_iam_role.runner.arn
}

output "runner_role_name" {
  description = "Name of the pipeline runner role."
  value       = aws_iam_role.runner.name
}
