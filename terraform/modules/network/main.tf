# Security groups for EMR in private subnets. No rule accepts traffic from 0.0.0.0/0: EMR itself adds the
# intra-cluster rules to its managed groups, and the only ingress written here is 9443 from the primary group to the
# service access group, which EMR requires in private subnets.

locals {
  emr_tag = { "for-use-with-amazon-emr-managed-policies" = "true" }
  sg_tags = merge(var.tags, local.emr_tag)
}

resource "aws_security_group" "primary" {
  name                   = "${var.name_prefix}-emr-primary"
  description            = "EMR managed security group of the primary node"
  vpc_id                 = var.vpc_id
  revoke_rules_on_delete = true
  tags                   = merge(local.sg_tags, { Name = "${var.name_prefix}-emr-primary" })
}

resource "aws_security_group" "workers" {
  name                   = "${var.name_prefix}-emr-workers"
  description            = "EMR managed security group of the core and task (GPU) nodes"
  vpc_id                 = var.vpc_id
  revoke_rules_on_delete = true
  tags                   = merge(local.sg_tags, { Name = "${var.name_prefix}-emr-workers" })
}

resource "aws_security_group" "service_access" {
  name                   = "${var.name_prefix}-emr-service-access"
  description            = "EMR service access security group (private subnets)"
  vpc_id                 = var.vpc_id
  revoke_rules_on_delete = true
  tags                   = merge(local.sg_tags, { Name = "${var.name_prefix}-emr-service-access" })
}

resource "aws_vpc_security_group_ingress_rule" "service_access_from_primary" {
  description                  = "EMR service access: primary node to the EMR service on 9443"
  security_group_id            = aws_security_group.service_access.id
  referenced_security_group_id = aws_security_group.primary.id
  ip_protocol                  = "tcp"
  from_port                    = 9443
  to_port                      = 9443
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "service_access_to_primary" {
  description                  = "EMR service access: EMR service to the primary node on 8443"
  security_group_id            = aws_security_group.service_access.id
  referenced_security_group_id = aws_security_group.primary.id
  ip_protocol                  = "tcp"
  from_port                    = 8443
  to_port                      = 8443
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "service_access_to_workers" {
  description                  = "EMR service access: EMR service to core and task nodes on 8443"
  security_group_id            = aws_security_group.service_access.id
  referenced_security_group_id = aws_security_group.workers.id
  ip_protocol                  = "tcp"
  from_port                    = 8443
  to_port                      = 8443
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "primary_out" {
  for_each = toset(var.egress_cidr_blocks)

  description       = "Primary node: outbound to AWS endpoints"
  security_group_id = aws_security_group.primary.id
  cidr_ipv4         = each.value
  ip_protocol       = "-1"
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "workers_out" {
  for_each = toset(var.egress_cidr_blocks)

  description       = "Core and task nodes: outbound to AWS endpoints"
  security_group_id = aws_security_group.workers.id
  cidr_ipv4         = each.value
  ip_protocol       = "-1"
  tags              = var.tags
}

resource "aws_ec2_tag" "subnet_for_emr" {
  for_each = var.tag_subnets_for_emr ? toset(var.subnet_ids) : toset([])

  resource_id = each.value
  key         = "for-use-with-amazon-emr-managed-policies"
  value       = "true"
}
