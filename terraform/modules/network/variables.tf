variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
}

variable "vpc_id" {
  description = "VPC that holds the private subnets."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the cluster nodes."
  type        = list(string)
}

variable "egress_cidr_blocks" {
  description = "IPv4 ranges the nodes may open connections to (S3, KMS, EMR and STS endpoints, through NAT or VPC endpoints)."
  type        = list(string)
}

variable "tag_subnets_for_emr" {
  description = "Add the tag for-use-with-amazon-emr-managed-policies=true to the subnets (needed by AmazonEMRServicePolicy_v2)."
  type        = bool
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
}
