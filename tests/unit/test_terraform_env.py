"""scripts/terraform_env.py: `terraform output -json` -> SHOPDW_* settings that shopdw really reads."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from shopdw.config import load_settings, require
from shopdw.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "terraform_env.py"

_spec = importlib.util.spec_from_file_location("terraform_env", SCRIPT)
tfenv = importlib.util.module_from_spec(_spec)
sys.modules["terraform_env"] = tfenv  # dataclasses look their module up there
_spec.loader.exec_module(tfenv)

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift!shopdw-dev-shopdw_admin-AbCdEf"


def _out(value, sensitive=False, type_="string"):
    return {"sensitive": sensitive, "type": type_, "value": value}


OUTPUTS = {
    "environment": _out("dev"),
    "region": _out("eu-west-1"),
    "lake_uri": _out("s3://shopdw-dev-lake-123456789012/shopdw"),
    "lake_bucket_name": _out("shopdw-dev-lake-123456789012"),
    "redshift_host": _out("shopdw-dev.123456789012.eu-west-1.redshift-serverless.amazonaws.com"),
    "redshift_port": _out(5439, type_="number"),
    "redshift_database": _out("shopdw"),
    "redshift_workgroup": _out("shopdw-dev"),
    "redshift_iam_role_arn": _out("arn:aws:iam::123456789012:role/shopdw-dev-redshift-copy"),
    "redshift_admin_username": _out("shopdw_admin"),
    "redshift_admin_secret_arn": _out(SECRET_ARN),
    "sns_topic_arn": _out("arn:aws:sns:eu-west-1:123456789012:shopdw-dev-alerts"),
    "private_subnet_ids": _out(["subnet-1", "subnet-2", "subnet-3"], type_=["list", "string"]),
    "kms_key_arn": _out("arn:aws:kms:eu-west-1:123456789012:key/abc", sensitive=True),
}

EXPECTED = {
    "SHOPDW_TARGET": "redshift",
    "SHOPDW_LAKE": "s3://shopdw-dev-lake-123456789012/shopdw",
    "SHOPDW_S3_REGION": "eu-west-1",
    "SHOPDW_REDSHIFT_HOST": "shopdw-dev.123456789012.eu-west-1.redshift-serverless.amazonaws.com",
    "SHOPDW_REDSHIFT_PORT": "5439",
    "SHOPDW_REDSHIFT_DATABASE": "shopdw",
    "SHOPDW_REDSHIFT_WORKGROUP": "shopdw-dev",
    "SHOPDW_REDSHIFT_IAM_ROLE_ARN": "arn:aws:iam::123456789012:role/shopdw-dev-redshift-copy",
    "SHOPDW_REDSHIFT_REGION": "eu-west-1",
    "SHOPDW_REDSHIFT_USER": "shopdw_admin",
    "SHOPDW_NOTIFY_SNS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:shopdw-dev-alerts",
    "SHOPDW_ENVIRONMENT": "dev",
}


def _run(*args, stdin=None, env=None):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], input=stdin, capture_output=True, text=True, env=env, timeout=60
    )


def _exports(text: str) -> dict[str, str]:
    """Parse `export K=V` lines the way a POSIX shell would (shlex), ignoring comments."""
    env = {}
    for line in text.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            (env[key],) = shlex.split(value)
    return env


def test_every_setting_is_printed_in_a_stable_order():
    pairs = tfenv.env_from_outputs(OUTPUTS)
    assert dict(pairs) == EXPECTED
    assert pairs[0] == ("SHOPDW_TARGET", "redshift")
    assert tfenv.render(pairs) == tfenv.render(tfenv.env_from_outputs(copy.deepcopy(OUTPUTS)))


def test_printed_settings_load_into_shopdw_as_a_redshift_target(tmp_path):
    text = tfenv.render(tfenv.env_from_outputs(OUTPUTS), "export", tfenv.password_hint(OUTPUTS))
    env = _exports(text)
    settings = load_settings(env=env, config_file=tmp_path / "absent.toml")
    assert settings.target == "redshift"
    assert settings.lake == "s3://shopdw-dev-lake-123456789012/shopdw" and settings.is_s3_lake
    assert settings.redshift_port == 5439
    assert settings.redshift_workgroup == "shopdw-dev"
    assert settings.redshift_iam_role_arn.endswith(":role/shopdw-dev-redshift-copy")
    assert settings.redshift_region == settings.s3_region == "eu-west-1"
    assert settings.notify_sns_topic_arn.endswith(":shopdw-dev-alerts")
    require(settings, "redshift_host", "redshift_database", "redshift_user", "redshift_iam_role_arn")
    assert settings.redshift_password is None  # never written by the script


def test_no_password_is_ever_written_only_how_to_fetch_it():
    text = tfenv.render(tfenv.env_from_outputs(OUTPUTS), "export", tfenv.password_hint(OUTPUTS))
    assert "SHOPDW_REDSHIFT_PASSWORD" not in _exports(text)
    assert all(
        not line.startswith(("export SHOPDW_REDSHIFT_PASSWORD", "SHOPDW_REDSHIFT_PASSWORD"))
        for line in text.splitlines()
    )
    assert "aws secretsmanager get-secret-value" in text and shlex.quote(SECRET_ARN) in text


def test_password_command_in_the_hint_really_fetches_the_password(tmp_path):
    """Run the commented command with a stand-in `aws` that prints what Secrets Manager returns."""
    fake_aws = tmp_path / "bin" / "aws"
    fake_aws.parent.mkdir()
    args_file = tmp_path / "args.txt"
    secret_string = json.dumps({"username": "shopdw_admin", "password": "s3cr3t'\"$x"})
    fake_aws.write_text(
        f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {shlex.quote(str(args_file))}\ncat <<'EOF'\n{secret_string}\nEOF\n"
    )
    fake_aws.chmod(fake_aws.stat().st_mode | stat.S_IEXEC)
    hint = tfenv.password_hint(OUTPUTS)
    command = hint[-1].removeprefix("#").strip()
    script = f'{command}\nprintf "%s" "$SHOPDW_REDSHIFT_PASSWORD"'
    env = {**os.environ, "PATH": f"{fake_aws.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "s3cr3t'\"$x"
    assert args_file.read_text().split("\n")[:3] == ["secretsmanager", "get-secret-value", "--secret-id"]
    assert SECRET_ARN in args_file.read_text()


def test_sourcing_the_export_file_in_a_shell_gives_shopdw_the_settings(tmp_path):
    env_file = tmp_path / "aws.env"
    done = _run(stdin=json.dumps(OUTPUTS))
    assert done.returncode == 0, done.stderr
    env_file.write_text(done.stdout)
    probe = (
        "import json; from shopdw.config import load_settings; "
        "s = load_settings(config_file='absent.toml'); "
        "print(json.dumps({k: str(v) for k, v in s.redacted().items()}))"
    )
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDW_")}
    shell = subprocess.run(
        ["bash", "-c", f". {shlex.quote(str(env_file))} && {shlex.quote(sys.executable)} -c {shlex.quote(probe)}"],
        capture_output=True,
        text=True,
        env=clean_env,
        cwd=tmp_path,
        timeout=120,
    )
    assert shell.returncode == 0, shell.stderr
    seen = json.loads(shell.stdout)
    for key, value in EXPECTED.items():
        if key == "SHOPDW_ENVIRONMENT" and "environment" not in seen:
            continue  # for the metric publisher; not (yet) a Settings field, and load_settings ignores it
        assert seen[key.removeprefix("SHOPDW_").lower()] == value


def test_dotenv_format_has_plain_lines():
    text = tfenv.render(tfenv.env_from_outputs(OUTPUTS), "dotenv")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert dict(line.split("=", 1) for line in lines) == EXPECTED


def test_missing_outputs_are_all_named():
    outputs = {k: v for k, v in OUTPUTS.items() if k not in ("redshift_host", "sns_topic_arn")}
    with pytest.raises(ConfigError, match=r"missing terraform outputs: redshift_host, sns_topic_arn.*terraform apply"):
        tfenv.env_from_outputs(outputs)


def test_optional_user_may_be_absent():
    outputs = {k: v for k, v in OUTPUTS.items() if k != "redshift_admin_username"}
    assert "SHOPDW_REDSHIFT_USER" not in dict(tfenv.env_from_outputs(outputs))


def test_a_sensitive_output_is_refused_without_showing_its_value():
    outputs = copy.deepcopy(OUTPUTS)
    outputs["redshift_host"] = _out("very-secret-host.example.com", sensitive=True)
    with pytest.raises(ConfigError, match="'redshift_host' is marked sensitive") as e:
        tfenv.env_from_outputs(outputs)
    assert "very-secret-host" not in str(e.value)


@pytest.mark.parametrize(
    ("output", "value", "expected"),
    [
        ("redshift_host", "evil.example.com; rm -rf /", "a host name"),
        ("redshift_port", "54x9", "a port number"),
        ("redshift_port", 70000, "between 1 and 65535"),
        ("lake_uri", "./lake", "s3://bucket/prefix"),
        ("redshift_iam_role_arn", "arn:aws:iam::123456789012:user/bob", "IAM role ARN"),
        ("sns_topic_arn", "$(curl evil)", "SNS topic ARN"),
        ("region", "Europe", "AWS region"),
    ],
)
def test_malformed_values_are_rejected_with_the_output_named(output, value, expected):
    outputs = copy.deepcopy(OUTPUTS)
    outputs[output] = _out(value)
    with pytest.raises(
        ConfigError, match=rf"output '{output}' \(SHOPDW_[A-Z_]+\): expected [^;]*{re.escape(expected)}"
    ):
        tfenv.env_from_outputs(outputs)


def test_input_that_is_not_terraform_output_json_is_explained():
    with pytest.raises(ConfigError, match="empty input"):
        tfenv.parse_outputs("   ")
    with pytest.raises(ConfigError, match="not JSON"):
        tfenv.parse_outputs('lake_uri = "s3://b/p"', "outputs.txt")
    with pytest.raises(ConfigError, match="not the shape of `terraform output -json`"):
        tfenv.parse_outputs(json.dumps({"lake_uri": "s3://b/p"}))


def test_cli_errors_are_one_line_with_exit_code_2(tmp_path):
    bad = tmp_path / "outputs.json"
    bad.write_text("{not json")
    done = _run(str(bad))
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {bad}: not JSON") and "Traceback" not in done.stderr
    assert done.stdout == ""

    missing = _run(str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr

    partial = _run(stdin=json.dumps({"region": OUTPUTS["region"]}))
    assert partial.returncode == 2 and "missing terraform outputs: lake_uri" in partial.stderr


def test_cli_reads_a_file_or_stdin_and_gives_identical_bytes(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    from_file = _run(str(path))
    from_stdin = _run(stdin=json.dumps(OUTPUTS))
    assert from_file.returncode == from_stdin.returncode == 0
    assert from_file.stdout == from_stdin.stdout
    assert _exports(from_file.stdout) == EXPECTED
    dotenv = _run("--format", "dotenv", str(path))
    assert dotenv.returncode == 0 and "SHOPDW_TARGET=redshift\n" in dotenv.stdout
