terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 7.0"
    }
  }

  # Configure a remote state backend per environment, e.g. with terraform init -backend-config=backend.hcl:
  # backend "s3" {}
}
