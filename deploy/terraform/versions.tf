terraform {
  # 1.11 for write-only arguments: the database password never enters the state.
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0" # any 5.x from 5.0 on, never 6.0
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge({ Application = "flowgate", ManagedBy = "terraform" }, var.tags)
  }
}
