output "database_name" {
  description = "Name of the Glue catalog database, or null when the module is off."
  value       = try(aws_glue_catalog_database.this[0].name, null)
}

output "crawler_name" {
  description = "Name of the crawler, or null when the module is off."
  value       = try(aws_glue_crawler.this[0].name, null)
}

output "crawler_role_arn" {
  description = "ARN of the crawler's IAM role, or null when the module is off."
  value       = try(aws_iam_role.this[0].arn, null)
}
