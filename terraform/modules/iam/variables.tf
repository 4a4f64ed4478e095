variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
}

variable "locations" {
  description = "Storage locations per purpose (models, inputs, outputs, artifacts, logs), as output by the storage module: bucket, bucket_arn, prefix, uri."
  type = map(object({
    bucket     = string
    bucket_arn = string
    prefix     = string
    uri        = string
  }))
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key the cluster uses for S3 objects and local disks."
  type        = string
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
}
