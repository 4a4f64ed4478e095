output "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts buckets, EMR disks, SNS and logs."
  value       = aws_kms_key.this.arn
}

output "locations" {
  description = "Per purpose (models, inputs, outputs, artifacts, logs): bucket name, bucket ARN, key prefix (\"\" or \"<purpose>/\") and s3:// URI of the location."
  value = {
    for p, l in local.locations : p => {
      bucket     = aws_s3_bucket.this[l.bucket_key].bucket
      bucket_arn = aws_s3_bucket.this[l.bucket_key].arn
      prefix     = l.prefix
      uri        = "s3://${aws_s3_bucket.this[l.bucket_key].bucket}/${l.prefix}"
    }
  }
}

output "bucket_names" {
  description = "Names of the buckets created (one per purpose, or a single one)."
  value       = [for b in aws_s3_bucket.this : b.bucket]
}
