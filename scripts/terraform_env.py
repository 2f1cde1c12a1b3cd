#!/usr/bin/env python3
"""Turn `terraform output -json` of an infra/terraform/envs/<env> root into shopdw settings.

    terraform -chdir=infra/terraform/envs/dev output -json | .venv/bin/python scripts/terraform_env.py > aws.env
    . ./aws.env          # then: shopdw run --target redshift   (SHOPDW_TARGET is already redshift)

Prints one `export SHOPDW_<FIELD>=<value>` line per setting (or `SHOPDW_<FIELD>=<value>` with
--format dotenv, for docker --env-file or an Airflow environment file). Never a password: the
warehouse admin password lives in Secrets Manager and is fetched at run time; the output ends
with a comment giving the exact command (see docs/aws.md).

Exit codes: 0 success; 2 the input is not usable (message names the output and what to do).
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

try:
    from shopdw.errors import ConfigError
except ImportError:  # the script also works outside the shopdw virtualenv

    class ConfigError(Exception):  # type: ignore[no-redef]
        exit_code = 2


_ARN_PARTITION = r"arn:aws(?:-[a-z]+)*"
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_NAME = re.compile(r"^[A-Za-z0-9_$-]{1,127}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ROLE_ARN = re.compile(rf"^{_ARN_PARTITION}:iam::\d{{12}}:role/[A-Za-z0-9+=,.@_/-]+$")
_TOPIC_ARN = re.compile(rf"^{_ARN_PARTITION}:sns:[a-z0-9-]+:\d{{12}}:[A-Za-z0-9_-]{{1,256}}$")
_SECRET_ARN = re.compile(rf"^{_ARN_PARTITION}:secretsmanager:[a-z0-9-]+:\d{{12}}:secret:[A-Za-z0-9/_+=.@!-]+$")
_LAKE = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9_.\-/]*)?$")
_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9]{1,15}$")
_SAFE = re.compile(r"^[A-Za-z0-9_./:@,+=$-]*$")


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"expected {what}, got {value!r}")
        return value

    return check


def _port(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise ValueError(f"expected a port number, got {value!r}")
    if not 1 <= int(value) <= 65535:
        raise ValueError(f"expected a port number between 1 and 65535, got {value!r}")
    return str(int(value))


@dataclass(frozen=True)
class OutputSetting:
    output: str  # name of the root output (infra/terraform/envs/*/outputs.tf)
    env: str  # SHOPDW_* variable (a field of shopdw.config.Settings)
    check: Callable[[Any], str]
    required: bool = True


# Order is the order of the printed lines (stable, so the same outputs give the same bytes).
MAPPINGS: tuple[OutputSetting, ...] = (
    OutputSetting("lake_uri", "SHOPDW_LAKE", _matching(_LAKE, "an s3://bucket/prefix URI")),
    OutputSetting("region", "SHOPDW_S3_REGION", _matching(_REGION, "an AWS region such as eu-west-1")),
    OutputSetting("redshift_host", "SHOPDW_REDSHIFT_HOST", _matching(_HOST, "a host name")),
    OutputSetting("redshift_port", "SHOPDW_REDSHIFT_PORT", _port),
    OutputSetting("redshift_database", "SHOPDW_REDSHIFT_DATABASE", _matching(_NAME, "a database name")),
    OutputSetting("redshift_workgroup", "SHOPDW_REDSHIFT_WORKGROUP", _matching(_NAME, "a workgroup name")),
    OutputSetting("redshift_iam_role_arn", "SHOPDW_REDSHIFT_IAM_ROLE_ARN", _matching(_ROLE_ARN, "an IAM role ARN")),
    OutputSetting("region", "SHOPDW_REDSHIFT_REGION", _matching(_REGION, "an AWS region such as eu-west-1")),
    OutputSetting("redshift_admin_username", "SHOPDW_REDSHIFT_USER", _matching(_NAME, "a user name"), required=False),
    OutputSetting("sns_topic_arn", "SHOPDW_NOTIFY_SNS_TOPIC_ARN", _matching(_TOPIC_ARN, "an SNS topic ARN")),
    # The Environment dimension of the HoursSinceLastLoad metric the freshness alarm watches.
    OutputSetting("environment", "SHOPDW_ENVIRONMENT", _matching(_ENVIRONMENT, "an environment name such as dev")),
)

REQUIRED_OUTPUTS: tuple[str, ...] = tuple(dict.fromkeys(m.output for m in MAPPINGS if m.required))
SECRET_OUTPUT = "redshift_admin_secret_arn"


def parse_outputs(text: str, source: str = "<stdin>") -> dict[str, dict[str, Any]]:
    """Parse `terraform output -json` text: {name: {"value": ..., "sensitive": bool, ...}}."""
    if not text.strip():
        raise ConfigError(
            f"{source}: empty input; pipe `terraform -chdir=infra/terraform/envs/<env> output -json` into this script "
            "(after `terraform apply`)"
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"{source}: not JSON ({e.msg} at line {e.lineno}); expected the output of `terraform output -json`"
        ) from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) and "value" in v for v in data.values()):
        raise ConfigError(
            f"{source}: not the shape of `terraform output -json` (an object of outputs, each with a 'value'); "
            "use `terraform output -json`, not `terraform output` or `terraform show -json`"
        )
    return data


def env_from_outputs(outputs: Mapping[str, Mapping[str, Any]], source: str = "<stdin>") -> list[tuple[str, str]]:
    """The SHOPDW_* settings as (name, value) pairs, SHOPDW_TARGET=redshift first.

    Raises ConfigError naming every missing or malformed output; refuses outputs marked sensitive.
    """
    missing = [name for name in REQUIRED_OUTPUTS if name not in outputs]
    if missing:
        raise ConfigError(
            f"{source}: missing terraform outputs: {', '.join(missing)}; run `terraform apply` in the environment's "
            "root (infra/terraform/envs/<env>) and pass its `terraform output -json`"
        )
    pairs: list[tuple[str, str]] = [("SHOPDW_TARGET", "redshift")]
    problems = []
    for m in MAPPINGS:
        if m.output not in outputs:
            continue
        out = outputs[m.output]
        if out.get("sensitive"):
            # Never print a sensitive value, not even in the error message.
            raise ConfigError(
                f"{source}: output {m.output!r} is marked sensitive; shopdw settings written by this script are "
                "never secret: remove `sensitive = true` from that output or read the value another way"
            )
        try:
            pairs.append((m.env, m.check(out["value"])))
        except ValueError as e:
            problems.append(f"output {m.output!r} ({m.env}): {e}")
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return pairs


def password_hint(outputs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Comment lines telling how to get SHOPDW_REDSHIFT_PASSWORD at run time (never its value)."""
    secret = outputs.get(SECRET_OUTPUT, {}).get("value")
    if not isinstance(secret, str) or not _SECRET_ARN.match(secret):
        return ["# SHOPDW_REDSHIFT_PASSWORD: read it from Secrets Manager at run time (docs/aws.md)."]
    return [
        "# SHOPDW_REDSHIFT_PASSWORD is deliberately not written here. Fetch it at run time:",
        f'#   export SHOPDW_REDSHIFT_PASSWORD="$(aws secretsmanager get-secret-value --secret-id {shlex.quote(secret)} '
        '--query SecretString --output text | python3 -c \'import json,sys; print(json.load(sys.stdin)["password"])\')"',
    ]


def render(pairs: list[tuple[str, str]], fmt: str = "export", comments: list[str] | None = None) -> str:
    """Lines for a shell (`export K=V`, values shell-quoted) or an env file (`K=V`)."""
    lines = ["# shopdw settings from terraform output (scripts/terraform_env.py)"]
    for key, value in pairs:
        if fmt == "export":
            lines.append(f"export {key}={shlex.quote(value)}")
        elif fmt == "dotenv":
            if not _SAFE.match(value):
                raise ConfigError(
                    f"{key}: value {value!r} cannot be written to an env file unquoted; use --format export"
                )
            lines.append(f"{key}={value}")
        else:
            raise ConfigError(f"unknown format {fmt!r}; use export or dotenv")
    lines.extend(comments or [])
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print shopdw settings (SHOPDW_*) from `terraform output -json` of an environment root.",
        epilog="Exit codes: 0 success; 2 the input is not usable.",
    )
    parser.add_argument("file", nargs="?", default="-", help="file with `terraform output -json` (default: stdin)")
    parser.add_argument(
        "--format", choices=("export", "dotenv"), default="export", help="export (for `.`/source) or dotenv lines"
    )
    args = parser.parse_args(argv)
    try:
        if args.file == "-":
            source, text = "<stdin>", sys.stdin.read()
        else:
            source = args.file
            try:
                text = Path(args.file).read_text()
            except OSError as e:
                raise ConfigError(
                    f"{args.file}: cannot read ({e.strerror}); pass the file written by `terraform output -json`"
                ) from None
        outputs = parse_outputs(text, source)
        sys.stdout.write(render(env_from_outputs(outputs, source), args.format, password_hint(outputs)))
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
