# A private network for the warehouse and the pipeline runner: no internet gateway, no
# NAT. S3 is reached through a gateway endpoint (Redshift's enhanced VPC routing sends
# COPY traffic through it), other AWS APIs through optional interface endpoints.

data "aws_region" "current" {}

locals {
  # Named explicitly rather than looked up, so a zone AWS adds later never moves a subnet.
  azs = var.azs
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = var.name })
}

# Take every rule off the default security group so nothing can fall back on it.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-default-deny" })
}

resource "aws_subnet" "this" {
  count = 3

  vpc_id                  = aws_vpc.this.id
  cidr_block              = var.private_subnet_cidrs[count.index]
  availability_zone       = local.azs[count.index]
  map_public_ip_on_launch = false

  tags = merge(var.tags, { Name = "${var.name}-private-${local.azs[count.index]}", Tier = "private" })
}

resource "aws_route_table" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-private" })
}

resource "aws_route_table_association" "this" {
  count = 3

  subnet_id      = aws_subnet.this[count.index].id
  route_table_id = aws_route_table.this.id
}

resource "aws_flow_log" "this" {
  vpc_id               = aws_vpc.this.id
  traffic_type         = "ALL"
  log_destination_type = "s3"
  log_destination      = var.flow_log_destination_arn

  tags = merge(var.tags, { Name = "${var.name}-flow-logs" })
}

################################################################################
# Endpoints
################################################################################

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.this.id]

  tags = merge(var.tags, { Name = "${var.name}-s3" })
}

resource "aws_vpc_endpoint" "interface" {
  for_each = toset(var.interface_endpoints)

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.value}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.this[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true

  tags = merge(var.tags, { Name = "${var.name}-${each.value}" })
}

################################################################################
# Security groups: runner -> warehouse:port, runner -> endpoints:443, both -> S3:443
################################################################################

resource "aws_security_group" "runner" {
  #checkov:skip=CKV2_AWS_5:The runner's compute (ECS task, EC2 instance or MWAA environment) lives outside this stack and attaches this group; its id is a root output.
  name        = "${var.name}-runner"
  description = "shopdw pipeline runner: may reach the warehouse port, the VPC endpoints and S3"
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-runner" })
}

resource "aws_security_group" "warehouse" {
  #checkov:skip=CKV2_AWS_5:Attached to the Redshift Serverless workgroup (modules/warehouse, security_group_ids); checkov's graph does not follow the attachment across module boundaries.
  name        = "${var.name}-warehouse"
  description = "Redshift Serverless workgroup: admits the warehouse port from the runner group only"
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-warehouse" })
}

resource "aws_security_group" "endpoints" {
  name        = "${var.name}-endpoints"
  description = "Interface VPC endpoints: HTTPS from the runner group only"
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-endpoints" })
}

resource "aws_vpc_security_group_ingress_rule" "warehouse_from_runner" {
  security_group_id            = aws_security_group.warehouse.id
  description                  = "Warehouse port from the shopdw runner"
  ip_protocol                  = "tcp"
  from_port                    = var.warehouse_port
  to_port                      = var.warehouse_port
  referenced_security_group_id = aws_security_group.runner.id
}

resource "aws_vpc_security_group_egress_rule" "warehouse_to_s3" {
  security_group_id = aws_security_group.warehouse.id
  description       = "HTTPS to S3 through the gateway endpoint (COPY with enhanced VPC routing)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}

resource "aws_vpc_security_group_egress_rule" "runner_to_warehouse" {
  security_group_id            = aws_security_group.runner.id
  description                  = "Warehouse port on the Redshift workgroup"
  ip_protocol                  = "tcp"
  from_port                    = var.warehouse_port
  to_port                      = var.warehouse_port
  referenced_security_group_id = aws_security_group.warehouse.id
}

resource "aws_vpc_security_group_egress_rule" "runner_to_s3" {
  security_group_id = aws_security_group.runner.id
  description       = "HTTPS to S3 through the gateway endpoint (the lake)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}

resource "aws_vpc_security_group_egress_rule" "runner_to_endpoints" {
  security_group_id            = aws_security_group.runner.id
  description                  = "HTTPS to the interface endpoints (Secrets Manager, SNS, CloudWatch, STS)"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_runner" {
  security_group_id            = aws_security_group.endpoints.id
  description                  = "HTTPS from the shopdw runner"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.runner.id
}
