# The app's credentials, encrypted with the stack's key. Terraform creates the
# secrets empty (their values never enter the state): fill them with
# `aws secretsmanager put-secret-value` as docs/deploy-aws.md shows. Only the
# database URL is written here, from a password generated during apply.

locals {
  # Secret key => environment variable the app reads it from.
  app_secrets = {
    github-app-private-key = "FLOWGATE_GITHUB_PRIVATE_KEY"
    github-webhook-secret  = "FLOWGATE_GITHUB_WEBHOOK_SECRET"
    admin-token            = "FLOWGATE_ADMIN_TOKEN"
    runtime-token          = "FLOWGATE_RUNTIME_TOKEN"
    master-key             = "FLOWGATE_MASTER_KEY"
  }
}

resource "aws_secretsmanager_secret" "app" {
  for_each = local.app_secrets

  name                    = "${var.name}/${each.key}"
  description             = "Flowgate ${each.value}"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "database_url" {
  name                    = "${var.name}/database-url"
  description             = "Flowgate FLOWGATE_DATABASE_URL (postgres://...; written by Terraform)"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

# Opened anew on every plan and apply; only the apply that bumps
# db_password_version writes it, to the database and to this secret alike.
ephemeral "aws_secretsmanager_random_password" "db" {
  password_length     = 40
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret_version" "database_url" {
  secret_id                = aws_secretsmanager_secret.database_url.id
  secret_string_wo         = "postgres://${aws_db_instance.main.username}:${ephemeral.aws_secretsmanager_random_password.db.random_password}@${aws_db_instance.main.address}:${aws_db_instance.main.port}/${aws_db_instance.main.db_name}?sslmode=require"
  secret_string_wo_version = var.db_password_version
}
