// Structural tests of the AWS deployment: they parse the Terraform with
// github.com/hashicorp/hcl/v2 (no provider, no AWS account, no network) and
// assert the security properties docs/deploy-aws.md promises. `terraform
// validate` (.ci/terraform.sh) checks the schema; these check the intent.
package terraform_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func loadHere(t *testing.T) (map[string][]byte, *module) {
	t.Helper()
	srcs, err := readModule(".")
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseModule(srcs)
	if err != nil {
		t.Fatal(err)
	}
	return srcs, m
}

func TestModuleHoldsSecurityProperties(t *testing.T) {
	_, m := loadHere(t)
	for _, c := range checks() {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range c.run(m) {
				t.Error(p)
			}
		})
	}
}

// TestChecksCatchViolations breaks one property at a time in a copy of the
// module and expects the matching check to say so: a check that cannot fail
// proves nothing.
func TestChecksCatchViolations(t *testing.T) {
	good, _ := loadHere(t)
	cases := []struct {
		name, file, old, new, want string
	}{
		{"key rotation off", "kms.tf", "enable_key_rotation     = true", "enable_key_rotation     = false", "enable_key_rotation must be true"},
		{"versioning suspended", "s3.tf", "versioning_configuration {\n    status = \"Enabled\"", "versioning_configuration {\n    status = \"Suspended\"", "versioning must be Enabled"},
		{"SSE-S3 instead of KMS", "s3.tf", `sse_algorithm     = "aws:kms"`, `sse_algorithm     = "AES256"`, "default encryption must be aws:kms"},
		{"public buckets not restricted", "s3.tf", "restrict_public_buckets = true", "restrict_public_buckets = false", "restrict_public_buckets must be true"},
		{"TLS-only statement inverted", "s3.tf", "variable = \"aws:SecureTransport\"\n      values   = [\"false\"]", "variable = \"aws:SecureTransport\"\n      values   = [\"true\"]", "aws:SecureTransport is false"},
		{"TLS-only statement misses objects", "s3.tf", "sid       = \"DenyInsecureTransport\"\n    effect    = \"Deny\"\n    actions   = [\"s3:*\"]\n    resources = [aws_s3_bucket.artifacts.arn, \"${aws_s3_bucket.artifacts.arn}/*\"]", "sid       = \"DenyInsecureTransport\"\n    effect    = \"Deny\"\n    actions   = [\"s3:*\"]\n    resources = [aws_s3_bucket.artifacts.arn]", "aws:SecureTransport is false"},
		{"database public", "rds.tf", "publicly_accessible    = false", "publicly_accessible    = true", "publicly_accessible must be set to false"},
		{"database unencrypted", "rds.tf", "storage_encrypted     = true", "storage_encrypted     = false", "storage_encrypted must be true"},
		{"database in public subnets", "rds.tf", "subnet_ids  = aws_subnet.private[*].id", "subnet_ids  = aws_subnet.public[*].id", "private subnets only"},
		{"database password in state", "rds.tf", "password_wo         =", "password            =", "stored in the state"},
		{"backups may be turned off", "variables.tf", "var.db_backup_retention_days >= 1 &&", "var.db_backup_retention_days >= 0 &&", "validation that the value is >= 1"},
		{"no final snapshot", "rds.tf", "skip_final_snapshot       = false", "skip_final_snapshot       = true", "skip_final_snapshot must not be true"},
		{"task role on the whole bucket", "iam.tf", `resources = ["${aws_s3_bucket.artifacts.arn}/${var.artifact_prefix}/*"]`, `resources = ["${aws_s3_bucket.artifacts.arn}/*"]`, "outside the artifact prefix"},
		{"task role any resource", "iam.tf", `resources = ["${aws_s3_bucket.artifacts.arn}/${var.artifact_prefix}/*"]`, `resources = ["*"]`, "is a wildcard"},
		{"task role extra action", "iam.tf", `actions   = ["s3:GetObject", "s3:PutObject"]`, `actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteBucket"]`, `"s3:DeleteBucket" is not one the app needs`},
		{"task role lists the whole bucket", "iam.tf", `variable = "s3:prefix"`, `variable = "s3:delimiter"`, "needs a StringLike s3:prefix condition"},
		{"task role gets a managed policy", "iam.tf", "data \"aws_iam_policy_document\" \"task\" {", "resource \"aws_iam_role_policy_attachment\" \"task_admin\" {\n  role       = aws_iam_role.task.name\n  policy_arn = \"arn:aws:iam::aws:policy/AdministratorAccess\"\n}\n\ndata \"aws_iam_policy_document\" \"task\" {", "must not get managed policies"},
		{"secrets readable by anyone's ARN", "iam.tf", "[for s in aws_secretsmanager_secret.app : s.arn],", `["*"],`, "is not one of the app's secrets"},
		{"secret in plain environment", "ecs.tf", `{ name = "FLOWGATE_ADDR", value = ":${var.container_port}" },`, `{ name = "FLOWGATE_ADDR", value = ":${var.container_port}" },` + "\n        { name = \"FLOWGATE_ADMIN_TOKEN\", value = \"hunter2\" },", "is a secret: pass it in secrets"},
		{"artifacts on local disk", "ecs.tf", `value = "s3://${aws_s3_bucket.artifacts.bucket}/${var.artifact_prefix}"`, `value = "/var/lib/flowgate/artifacts"`, "must be an s3:// URL"},
		{"misspelt setting", "ecs.tf", `name = "FLOWGATE_GITHUB_APP_ID"`, `name = "FLOWGATE_GITHUB_APPID"`, "FLOWGATE_GITHUB_APPID is not a Flowgate setting"},
		{"master key not injected", "secrets.tf", "master-key             = \"FLOWGATE_MASTER_KEY\"\n", "", "secrets lack FLOWGATE_MASTER_KEY"},
		{"secret not under the stack key", "secrets.tf", "description             = \"Flowgate FLOWGATE_DATABASE_URL (postgres://...; written by Terraform)\"\n  kms_key_id              = aws_kms_key.main.arn", "description             = \"Flowgate FLOWGATE_DATABASE_URL (postgres://...; written by Terraform)\"", "kms_key_id must be the stack's aws_kms_key"},
		{"secret value in state", "secrets.tf", "secret_string_wo         =", "secret_string            =", "use secret_string_wo"},
		{"database open to the VPC", "network.tf", "description                  = \"PostgreSQL from the app tasks\"\n  ip_protocol                  = \"tcp\"\n  from_port                    = 5432\n  to_port                      = 5432\n  referenced_security_group_id = aws_security_group.tasks.id", "description                  = \"PostgreSQL from the app tasks\"\n  ip_protocol                  = \"tcp\"\n  from_port                    = 5432\n  to_port                      = 5432\n  cidr_ipv4                    = \"10.0.0.0/8\"", "the db group must not accept cidr_ipv4"},
		{"tasks reachable from the database group", "network.tf", "description                  = \"App port from the load balancer\"\n  ip_protocol                  = \"tcp\"\n  from_port                    = var.container_port\n  to_port                      = var.container_port\n  referenced_security_group_id = aws_security_group.alb.id", "description                  = \"App port from the load balancer\"\n  ip_protocol                  = \"tcp\"\n  from_port                    = var.container_port\n  to_port                      = var.container_port\n  referenced_security_group_id = aws_security_group.db.id", "accepts connections from the alb group only"},
		{"inline security group rule", "network.tf", "description = \"Flowgate PostgreSQL: port 5432 from the app tasks only\"\n  vpc_id      = aws_vpc.main.id\n", "description = \"Flowgate PostgreSQL: port 5432 from the app tasks only\"\n  vpc_id      = aws_vpc.main.id\n\n  ingress {\n    from_port   = 5432\n    to_port     = 5432\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n", "not inline rules"},
		{"plain HTTP served", "alb.tf", `type = "redirect"`, `type = "forward"`, "must only redirect to HTTPS"},
		{"certificate hard-coded", "alb.tf", "certificate_arn   = var.certificate_arn", `certificate_arn   = "arn:aws:acm:us-east-1:123456789012:certificate/x"`, "certificate_arn must be var.certificate_arn"},
		{"weak TLS policy", "variables.tf", `default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"`, `default     = "ELBSecurityPolicy-2016-08"`, "TLS 1.2 or later"},
		{"tasks with public IPs", "ecs.tf", "assign_public_ip = false", "assign_public_ip = true", "assign_public_ip must be false"},
		{"scaling on requests only", "ecs.tf", `predefined_metric_type = "ECSServiceAverageCPUUtilization"`, `predefined_metric_type = "ALBRequestCountPerTarget"`, "ECSServiceAverageCPUUtilization"},
		{"logs unencrypted", "ecs.tf", "retention_in_days = var.log_retention_days\n  kms_key_id        = aws_kms_key.main.arn", "retention_in_days = var.log_retention_days", "kms_key_id must be the stack's aws_kms_key"},
		{"no public URL", "ecs.tf", "        { name = \"FLOWGATE_PUBLIC_URL\", value = \"https://${local.public_host}\" },\n", "", "environment lacks FLOWGATE_PUBLIC_URL"},
		{"public URL over plain HTTP", "ecs.tf", `value = "https://${local.public_host}"`, `value = "http://${local.public_host}"`, "FLOWGATE_PUBLIC_URL must be"},
		{"extra environment overrides the public URL", "variables.tf", `"FLOWGATE_GITHUB_API_URL", "FLOWGATE_PUBLIC_URL", "AWS_REGION",`, `"FLOWGATE_GITHUB_API_URL", "AWS_REGION",`, "extra_environment does not refuse FLOWGATE_PUBLIC_URL"},
		{"extra environment sets a secret in plain text", "variables.tf", `"FLOWGATE_MASTER_KEY", "FLOWGATE_DATABASE_URL",`, `"FLOWGATE_DATABASE_URL",`, "extra_environment does not refuse FLOWGATE_MASTER_KEY"},
		{"extra environment dropped", "ecs.tf", "for name, value in var.extra_environment : { name = name, value = value }", "for name, value in {} : { name = name, value = value }", "var.extra_environment does not reach"},
		{"metrics forwarded", "alb.tf", `status_code  = "404"`, `status_code  = "200"`, "the metrics are public"},
		{"metrics rule on another path", "alb.tf", `values = ["/metrics", "/metrics/*"]`, `values = ["/metricz"]`, "the metrics are public"},
		{"metrics rule on the HTTP listener", "alb.tf", "listener_arn = aws_lb_listener.https.arn", "listener_arn = aws_lb_listener.http.arn", "the metrics are public"},
		{"provider unbounded", "versions.tf", `version = "~> 5.0"`, `version = ">= 5.0"`, "admits 6.0.0 = true"},
		{"provider any major", "versions.tf", `version = "~> 5.0"`, `version = "~> 5"`, "give a minor version"},
		{"provider 6", "versions.tf", `version = "~> 5.0"`, `version = "~> 6.0"`, "admits 5.100.0 = false"},
		{"variable undocumented", "variables.tf", `description = "Extra tags added to every resource."`, `description = ""`, `variable tags (variables.tf): no description`},
		{"output undocumented", "outputs.tf", `description = "Name of the ECS cluster."`, "", `output ecs_cluster_name (outputs.tf): no description`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, ok := good[tc.file]
			if !ok {
				t.Fatalf("no file %s", tc.file)
			}
			if n := strings.Count(string(src), tc.old); n != 1 {
				t.Fatalf("%s must contain %q exactly once (found %d); update this case", tc.file, tc.old, n)
			}
			bad := map[string][]byte{}
			for k, v := range good {
				bad[k] = v
			}
			bad[tc.file] = []byte(strings.Replace(string(src), tc.old, tc.new, 1))
			m, err := parseModule(bad)
			if err != nil {
				t.Fatalf("the mutated module does not parse: %v", err)
			}
			var all []string
			for _, c := range checks() {
				all = append(all, c.run(m)...)
			}
			for _, p := range all {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Errorf("no check reported %q; got:\n%s", tc.want, strings.Join(all, "\n"))
		})
	}
}

func TestAdmits(t *testing.T) {
	cases := []struct {
		constraint, version string
		want                bool
		err                 bool
	}{
		{"~> 5.0", "5.0.0", true, false},
		{"~> 5.0", "5.100.0", true, false},
		{"~> 5.0", "6.0.0", false, false},
		{"~> 5.0", "4.67.0", false, false},
		{"~> 5.40", "5.39.9", false, false},
		{"~> 5.100.0", "5.100.9", true, false},
		{"~> 5.100.0", "5.101.0", false, false},
		{">= 5.0, < 6.0.0", "5.100.0", true, false},
		{">= 5.0, < 6.0.0", "6.0.0", false, false},
		{">= 5.0", "7.0.0", true, false},
		{"5.100.0", "5.100.0", true, false},
		{"!= 5.100.0", "5.100.0", false, false},
		{"~> 5", "5.1.0", false, true},
		{"latest", "5.1.0", false, true},
		{"~> 5.0", "5.x", false, true},
	}
	for _, tc := range cases {
		got, err := admits(tc.constraint, tc.version)
		if (err != nil) != tc.err {
			t.Errorf("admits(%q, %q) error = %v, want error %v", tc.constraint, tc.version, err, tc.err)
			continue
		}
		if got != tc.want {
			t.Errorf("admits(%q, %q) = %v, want %v", tc.constraint, tc.version, got, tc.want)
		}
	}
}

// TestReadmeListsEveryVariableAndOutput keeps README.md's tables in step with the code.
func TestReadmeListsEveryVariableAndOutput(t *testing.T) {
	_, m := loadHere(t)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"variable", "output"} {
		for _, b := range m.all(typ, "") {
			row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(b.Labels[0]) + "` \\|")
			if !row.Match(readme) {
				t.Errorf("README.md has no table row for %s %q", typ, b.Labels[0])
			}
		}
	}
}

// TestNoLocalState fails when a terraform run left state or provider files in
// the repository (.ci/terraform.sh works on a copy in a temp dir).
func TestNoLocalState(t *testing.T) {
	for _, name := range []string{".terraform", "terraform.tfstate", "terraform.tfstate.backup", ".terraform.lock.hcl"} {
		if _, err := os.Stat(filepath.Join(".", name)); err == nil {
			t.Errorf("deploy/terraform/%s exists: remove it (run terraform with TF_DATA_DIR outside the repository, as .ci/terraform.sh does)", name)
		}
	}
}

func TestParseModuleRejectsBrokenHCL(t *testing.T) {
	for name, src := range map[string]string{
		"unclosed block": "resource \"aws_s3_bucket\" \"x\" {\n",
		"bad attribute":  "variable \"x\" {\n  description = \n}\n",
	} {
		if _, err := parseModule(map[string][]byte{"x.tf": []byte(src)}); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}
