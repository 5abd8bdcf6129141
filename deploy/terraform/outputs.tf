output "url" {
  description = "Base URL of Flowgate (runtime and management APIs under /api/v1)."
  value       = "https://${local.public_host}"
}

output "webhook_url" {
  description = "Webhook URL to enter in the GitHub App's settings."
  value       = "https://${local.public_host}/webhooks/github"
}

output "load_balancer_dns_name" {
  description = "DNS name of the load balancer; point domain_name at it (CNAME or alias) when Terraform does not manage the record."
  value       = aws_lb.app.dns_name
}

output "ecr_repository_url" {
  description = "ECR repository to push the app image to (empty when create_ecr_repository is false)."
  value       = var.create_ecr_repository ? aws_ecr_repository.app[0].repository_url : ""
}

output "artifacts_url" {
  description = "Where the app keeps bundles (FLOWGATE_ARTIFACTS)."
  value       = "s3://${aws_s3_bucket.artifacts.bucket}/${var.artifact_prefix}"
}

output "artifact_bucket" {
  description = "Name of the S3 bucket holding the bundles."
  value       = aws_s3_bucket.artifacts.bucket
}

output "secret_arns" {
  description = "ARNs of the secrets to fill, by the environment variable each becomes."
  value       = { for key, env in local.app_secrets : env => aws_secretsmanager_secret.app[key].arn }
}

output "database_url_secret_arn" {
  description = "ARN of the secret holding FLOWGATE_DATABASE_URL (written by Terraform, password included)."
  value       = aws_secretsmanager_secret.database_url.arn
}

output "database_endpoint" {
  description = "Host and port of the PostgreSQL instance (reachable from the app tasks only)."
  value       = aws_db_instance.main.endpoint
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the bundles, secrets, database and logs."
  value       = aws_kms_key.main.arn
}

output "ecs_cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.main.name
}

output "ecs_service_name" {
  description = "Name of the ECS service running the app."
  value       = aws_ecs_service.app.name
}

output "log_group_name" {
  description = "CloudWatch log group of the app."
  value       = aws_cloudwatch_log_group.app.name
}

output "task_role_arn" {
  description = "ARN of the app's task role (bundles under the artifact prefix only)."
  value       = aws_iam_role.task.arn
}

output "tasks_security_group_id" {
  description = "Security group of the app tasks, for extra egress rules (e.g. workflows that fetch over plain HTTP)."
  value       = aws_security_group.tasks.id
}
