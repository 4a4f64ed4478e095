# Scheduled GPU bulk generation on AWS: storage, IAM, network, EMR cluster definition and the scheduled state machine.

locals {
  tags = merge({ Project = "mtp-spark", ManagedBy = "terraform" }, var.tags)
}

module "storage" {
  source = "./modules/storage"

  name_prefix                       = var.name_prefix
  bucket_layout                     = var.bucket_layout
  log_retention_days                = var.log_retention_days
  temp_retention_days               = var.temp_retention_days
  noncurrent_version_retention_days = var.noncurrent_version_retention_days
  force_destroy                     = var.force_destroy_buckets
  tags                              = local.tags
}

module "iam" {
  source = "./modules/iam"

  name_prefix = var.name_prefix
  locations   = module.storage.locations
  kms_key_arn = module.storage.kms_key_arn
  tags        = local.tags
}

module "network" {
  source = "./modules/network"

  name_prefix         = var.name_prefix
  vpc_id              = var.vpc_id
  subnet_ids          = var.private_subnet_ids
  egress_cidr_blocks  = var.egress_cidr_blocks
  tag_subnets_for_emr = var.tag_subnets_for_emr
  tags                = local.tags
}

module "emr" {
  source = "./modules/emr"

  name_prefix                      = var.name_prefix
  locations                        = module.storage.locations
  kms_key_arn                      = module.storage.kms_key_arn
  release_label                    = var.emr_release_label
  spark_runtime                    = var.spark_runtime
  spark_tarball_key                = var.spark_tarball_key
  java_home                        = var.java_home
  primary_instance_type            = var.primary_instance_type
  gpu_instance_type                = var.gpu_instance_type
  gpus_per_node                    = var.gpus_per_node
  core_instance_count              = var.core_instance_count
  task_instance_count              = var.task_instance_count
  task_market                      = var.task_market
  executor_cores                   = var.executor_cores
  executor_memory                  = var.executor_memory
  ebs_size_gb                      = var.ebs_size_gb
  idle_timeout_seconds             = var.idle_timeout_seconds
  cgroup_mount_path                = var.cgroup_mount_path
  custom_ami_id                    = var.custom_ami_id
  subnet_ids                       = var.private_subnet_ids
  primary_security_group_id        = module.network.primary_security_group_id
  workers_security_group_id        = module.network.workers_security_group_id
  service_access_security_group_id = module.network.service_access_security_group_id
  service_role_name                = module.iam.emr_service_role_name
  instance_profile_name            = module.iam.emr_instance_profile_name
  extra_spark_conf                 = var.extra_spark_conf
  tags                             = local.tags
}

module "orchestration" {
  source = "./modules/orchestration"

  name_prefix          = var.name_prefix
  locations            = module.storage.locations
  kms_key_arn          = module.storage.kms_key_arn
  run_job_flow         = module.emr.run_job_flow
  spark_submit_prefix  = module.emr.spark_submit_prefix
  emr_service_role_arn = module.iam.emr_service_role_arn
  emr_ec2_role_arn     = module.iam.emr_ec2_role_arn
  jar_key              = var.jar_key
  model_key            = var.model_key
  adapter_key          = var.adapter_key
  decoder              = var.decoder
  draft_k              = var.draft_k
  batch_size           = var.batch_size
  backend              = var.backend
  gpu_instance_type    = var.gpu_instance_type
  schedule_expression  = var.schedule_expression
  schedule_timezone    = var.schedule_timezone
  schedule_enabled     = var.schedule_enabled
  sns_topic_arn        = var.sns_topic_arn
  log_retention_days   = var.log_retention_days
  tags                 = local.tags
}
