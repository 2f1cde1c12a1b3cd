output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "IDs of the three private subnets."
  value       = aws_subnet.this[*].id
}

output "availability_zones" {
  description = "Availability zones of the private subnets."
  value       = local.azs
}

output "runner_security_group_id" {
  description = "Security group to attach to the pipeline runner (ECS task, EC2 instance, MWAA)."
  value       = aws_security_group.runner.id
}

output "warehouse_security_group_id" {
  description = "Security group of the Redshift workgroup."
  value       = aws_security_group.warehouse.id
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint."
  value       = aws_vpc_endpoint.s3.id
}

output "interface_endpoint_ids" {
  description = "IDs of the interface endpoints, by service name."
  value       = { for k, v in aws_vpc_endpoint.interface : k => v.id }
}
