# PostgreSQL for metadata and the job queue: private subnets only, encrypted
# with the stack's key, TLS enforced, daily backups with point-in-time recovery.

resource "aws_db_subnet_group" "main" {
  name        = var.name
  description = "Flowgate database: private subnets"
  subnet_ids  = aws_subnet.private[*].id
}

resource "aws_db_parameter_group" "main" {
  name_prefix = "${var.name}-pg${var.db_engine_version}-"
  family      = "postgres${var.db_engine_version}"
  description = "Flowgate: TLS required"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# RDS would create these on first export, unencrypted and kept forever.
resource "aws_cloudwatch_log_group" "db" {
  for_each = toset(local.db_log_exports)

  name              = "/aws/rds/instance/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_db_instance" "main" {
  identifier     = var.name
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class

  db_name  = "flowgate"
  username = "flowgate"
  # Write-only: sent to RDS when db_password_version changes, never stored in the state.
  password_wo         = ephemeral.aws_secretsmanager_random_password.db.random_password
  password_wo_version = var.db_password_version

  allocated_storage     = var.db_allocated_storage
  max_allocated_storage = var.db_max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.main.arn

  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  multi_az               = var.db_multi_az
  parameter_group_name   = aws_db_parameter_group.main.name

  backup_retention_period   = var.db_backup_retention_days
  backup_window             = var.db_backup_window
  maintenance_window        = var.db_maintenance_window
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-final"

  auto_minor_version_upgrade      = true
  allow_major_version_upgrade     = var.db_allow_major_version_upgrade
  enabled_cloudwatch_logs_exports = local.db_log_exports
  performance_insights_enabled    = true
  performance_insights_kms_key_id = aws_kms_key.main.arn

  depends_on = [aws_cloudwatch_log_group.db]
}
