# ---- General -----------------------------------------------------------------

variable "aws_region" {
  description = "AWS region to deploy into, e.g. eu-west-1."
  type        = string
}

variable "name" {
  description = "Name prefix for every resource (lowercase letters, digits and dashes; at most 24 characters)."
  type        = string
  default     = "flowgate"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,23}$", var.name))
    error_message = "name must be 2-24 characters of lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "deletion_protection" {
  description = "Protect the database and the load balancer from deletion. Turn off only to tear the stack down."
  type        = bool
  default     = true
}

# ---- Network -----------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR block of the VPC created for Flowgate."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be an IPv4 CIDR block such as 10.40.0.0/16."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread subnets, tasks and the load balancer over (2 to 4)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "az_count must be between 2 and 4 (an ALB and a Multi-AZ database need at least two zones)."
  }
}

variable "nat_gateway_per_az" {
  description = "One NAT gateway per availability zone (survives a zone outage) instead of a single shared one (cheaper)."
  type        = bool
  default     = false
}

variable "allowed_ingress_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the load balancer. GitHub webhooks and your auth server must be inside them."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

# ---- Load balancer and DNS ---------------------------------------------------

variable "certificate_arn" {
  description = "ARN of the ACM certificate for the HTTPS listener (issued in aws_region for domain_name)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "domain_name" {
  description = "Public host name of Flowgate, e.g. flowgate.example.com. Used in the outputs and, with route53_zone_id, for an alias record. Empty: the load balancer's DNS name."
  type        = string
  default     = ""
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone in which to create an alias record for domain_name. Empty: no record is created."
  type        = string
  default     = ""
}

# ---- The app -----------------------------------------------------------------

variable "container_image" {
  description = "Image of the Flowgate app (cmd/flowgate-app), e.g. ACCOUNT.dkr.ecr.REGION.amazonaws.com/flowgate:v1.0.0. Prefer an immutable tag or a digest."
  type        = string
}

variable "container_port" {
  description = "Port the app listens on inside the task (FLOWGATE_ADDR)."
  type        = number
  default     = 8080
}

variable "task_cpu" {
  description = "CPU units per task (1024 = 1 vCPU); a valid Fargate size together with task_memory."
  type        = number
  default     = 1024
}

variable "task_memory" {
  description = "Memory per task in MiB; a valid Fargate size together with task_cpu."
  type        = number
  default     = 2048
}

variable "cpu_architecture" {
  description = "CPU architecture of the tasks: X86_64 or ARM64 (the image must be built for it)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "desired_count" {
  description = "Number of app tasks at creation; autoscaling moves it between min_capacity and max_capacity afterwards."
  type        = number
  default     = 2
}

variable "min_capacity" {
  description = "Fewest app tasks autoscaling keeps running."
  type        = number
  default     = 2
}

variable "max_capacity" {
  description = "Most app tasks autoscaling may run."
  type        = number
  default     = 6
}

variable "cpu_target_percent" {
  description = "Average CPU utilisation of the service that autoscaling aims for, in percent."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_target_percent >= 10 && var.cpu_target_percent <= 90
    error_message = "cpu_target_percent must be between 10 and 90."
  }
}

variable "github_app_id" {
  description = "ID of the GitHub App (FLOWGATE_GITHUB_APP_ID). Its private key and webhook secret go into Secrets Manager, not here."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+$", var.github_app_id))
    error_message = "github_app_id must be the numeric App ID shown on the GitHub App's settings page."
  }
}

variable "github_api_url" {
  description = "GitHub REST API base URL (FLOWGATE_GITHUB_API_URL); change it for GitHub Enterprise Server."
  type        = string
  default     = "https://api.github.com/"
}

variable "extra_environment" {
  description = "More environment variables for the app container (docs/configuration.md), e.g. { FLOWGATE_NPM_ALLOW = \"@kinde/infrastructure,zod\" }. Names Terraform sets itself, and the secrets, are refused."
  type        = map(string)
  default     = {}

  validation {
    condition = length(setintersection(keys(var.extra_environment), [
      "FLOWGATE_ADDR", "FLOWGATE_ARTIFACTS", "FLOWGATE_GITHUB_APP_ID", "FLOWGATE_GITHUB_API_URL", "FLOWGATE_PUBLIC_URL", "AWS_REGION",
      "FLOWGATE_GITHUB_PRIVATE_KEY", "FLOWGATE_GITHUB_WEBHOOK_SECRET", "FLOWGATE_ADMIN_TOKEN", "FLOWGATE_RUNTIME_TOKEN", "FLOWGATE_MASTER_KEY", "FLOWGATE_DATABASE_URL",
    ])) == 0
    error_message = "extra_environment must not set a name Terraform sets itself (FLOWGATE_ADDR, FLOWGATE_ARTIFACTS, FLOWGATE_GITHUB_APP_ID, FLOWGATE_GITHUB_API_URL, FLOWGATE_PUBLIC_URL, AWS_REGION) or a secret (those come from Secrets Manager)."
  }
}

variable "log_retention_days" {
  description = "Days the app's CloudWatch logs are kept."
  type        = number
  default     = 30
}

# ---- Artifacts -----------------------------------------------------------------

variable "artifact_bucket_name" {
  description = "Name of the S3 bucket for workflow bundles. Empty: NAME-artifacts-ACCOUNT_ID."
  type        = string
  default     = ""
}

variable "artifact_prefix" {
  description = "Key prefix under which the app stores bundles (FLOWGATE_ARTIFACTS=s3://BUCKET/PREFIX); the task role can touch nothing else."
  type        = string
  default     = "artifacts"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$", var.artifact_prefix))
    error_message = "artifact_prefix must be a non-empty key prefix without leading or trailing slashes or wildcards, e.g. artifacts or flowgate/prod."
  }
}

variable "artifact_noncurrent_version_days" {
  description = "Days an overwritten or deleted bundle version is kept before S3 expires it."
  type        = number
  default     = 90
}

# ---- Database ----------------------------------------------------------------

variable "db_instance_class" {
  description = "RDS instance class of the PostgreSQL database."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_engine_version" {
  description = "PostgreSQL major version (RDS picks the newest minor and upgrades minors automatically)."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^[0-9]+$", var.db_engine_version))
    error_message = "db_engine_version must be a major version such as 16."
  }
}

variable "db_allow_major_version_upgrade" {
  description = "Allow RDS to upgrade PostgreSQL to the major version in db_engine_version. Set it for the apply that raises the major version, then unset it."
  type        = bool
  default     = false
}

variable "db_allocated_storage" {
  description = "Initial database storage in GiB."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage" {
  description = "Upper bound in GiB for storage autoscaling of the database."
  type        = number
  default     = 100
}

variable "db_multi_az" {
  description = "Run the database with a synchronous standby in a second availability zone."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days automated database backups (point-in-time recovery) are kept, 1 to 35."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35: backups cannot be turned off."
  }
}

variable "db_backup_window" {
  description = "Daily UTC window for automated backups (hh24:mi-hh24:mi)."
  type        = string
  default     = "03:00-04:00"
}

variable "db_maintenance_window" {
  description = "Weekly UTC window for database maintenance (ddd:hh24:mi-ddd:hh24:mi), outside the backup window."
  type        = string
  default     = "sun:04:30-sun:05:30"
}

variable "db_password_version" {
  description = "Increase by one to generate a new database password: it is written to the database and to the database-url secret, never to the Terraform state."
  type        = number
  default     = 1
}

# ---- Secrets and keys ----------------------------------------------------------

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can still be restored (7 to 30)."
  type        = number
  default     = 30
}

variable "kms_deletion_window_days" {
  description = "Days before a scheduled deletion of the KMS key takes effect (7 to 30)."
  type        = number
  default     = 30
}

variable "create_ecr_repository" {
  description = "Create a private ECR repository to push the app image to."
  type        = bool
  default     = true
}
