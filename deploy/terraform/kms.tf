# One customer-managed key for everything Flowgate keeps at rest: bundles in
# S3, secrets, the database, its backups and the logs. Rotated yearly by AWS.

resource "aws_kms_key" "main" {
  description             = "Flowgate (${var.name}): S3 bundles, secrets, database and logs"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.main.key_id
}

data "aws_iam_policy_document" "kms" {
  # The account administers the key; roles get use of it through IAM policies.
  statement {
    sid       = "AccountAdministers"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts this stack's log groups, and nothing else.
  statement {
    sid    = "CloudWatchLogsForThisLogGroup"
    effect = "Allow"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values = concat(
        ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"],
        [for e in local.db_log_exports : "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/rds/instance/${var.name}/${e}"],
      )
    }
  }
}
