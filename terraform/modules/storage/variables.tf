variable "name_prefix" {
  description = "Prefix of every resource name (lowercase letters, digits and hyphens)."
  type        = string
}

variable "bucket_layout" {
  description = "\"per_purpose\": one bucket each for models, inputs, outputs, artifacts and logs; \"single\": one bucket with one prefix per purpose."
  type        = string
}

variable "log_retention_days" {
  description = "Days after which objects under the logs location expire."
  type        = number
}

variable "temp_retention_days" {
  description = "Days after which objects under the temporary prefix (<outputs>/tmp/) expire."
  type        = number
}

variable "noncurrent_version_retention_days" {
  description = "Days after which noncurrent object versions expire in every bucket."
  type        = number
}

variable "force_destroy" {
  description = "Let terraform destroy delete non-empty buckets (keep false outside test accounts)."
  type        = bool
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
}
