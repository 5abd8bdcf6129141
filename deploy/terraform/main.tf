# Flowgate on AWS: the app (cmd/flowgate-app) as an ECS Fargate service behind an ALB,
# PostgreSQL on RDS for metadata and jobs, S3 for workflow bundles, Secrets
# Manager for credentials, everything at rest under one customer-managed KMS key.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  azs = slice(data.aws_availability_zones.available.names, 0, var.az_count)

  artifact_bucket = var.artifact_bucket_name != "" ? var.artifact_bucket_name : "${var.name}-artifacts-${local.account_id}"
  log_group_name  = "/ecs/${var.name}"
  db_log_exports  = ["postgresql", "upgrade"]

  public_host = var.domain_name != "" ? var.domain_name : aws_lb.app.dns_name
}
