import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from shopdw.config import load_settings
from shopdw.errors import ConfigError
from shopdw.notify import notify_failure


@pytest.fixture
def webhook():
    """A local HTTP server that records every POSTed JSON body."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_webhook_receives_failure(webhook, tmp_path):
    url, received = webhook
    s = load_settings(env={"SHOPDW_NOTIFY_WEBHOOK_URL": url}, config_file=tmp_path / "none.toml")
    assert notify_failure(s, "shopdw run r1 blocked", "validity below threshold") == ["webhook"]
    assert received == [
        {
            "subject": "shopdw run r1 blocked",
            "text": "shopdw run r1 blocked\nvalidity below threshold",
            "source": "shopdw",
        }
    ]


def test_unreachable_webhook_does_not_raise(tmp_path, capsys):
    from tests_support_ports import closed_port

    s = load_settings(
        env={"SHOPDW_NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{closed_port()}/x"}, config_file=tmp_path / "none.toml"
    )
    assert notify_failure(s, "subject", "message") == []
    assert "webhook notification failed" in capsys.readouterr().err


def test_sns_topic_on_s3_api_server_process(s3_endpoint, tmp_path, monkeypatch):
    """moto's server speaks SNS too: publish to a real topic over HTTP on 127.0.0.1."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", s3_endpoint)
    arn = boto3.client("sns", region_name="us-east-1").create_topic(Name="shopdw-alerts")["TopicArn"]
    s = load_settings(env={"SHOPDW_NOTIFY_SNS_TOPIC_ARN": arn}, config_file=tmp_path / "none.toml")
    assert notify_failure(s, "subject", "message") == ["sns"]


def test_non_http_webhook_is_a_config_error(tmp_path):
    s = load_settings(env={"SHOPDW_NOTIFY_WEBHOOK_URL": "file:///etc/passwd"}, config_file=tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="SHOPDW_NOTIFY_WEBHOOK_URL"):
        notify_failure(s, "s", "m")


def test_freshness_metric_reaches_cloudwatch_api(s3_endpoint, tmp_path, monkeypatch):
    """moto's server answers the CloudWatch API too: the metric the Terraform alarm watches lands there."""
    from datetime import datetime, timedelta

    import boto3

    from shopdw.notify import publish_freshness_metric

    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", s3_endpoint)
    s = load_settings(env={"SHOPDW_ENVIRONMENT": "dev", "SHOPDW_S3_REGION": "us-east-1"}, config_file=tmp_path / "x")
    assert publish_freshness_metric(s, 5.5)
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    stats = cw.get_metric_statistics(
        Namespace="shopdw", MetricName="HoursSinceLastLoad", Dimensions=[{"Name": "Environment", "Value": "dev"}],
        StartTime=datetime.utcnow() - timedelta(hours=1), EndTime=datetime.utcnow() + timedelta(hours=1),
        Period=60, Statistics=["Maximum"],
    )  # fmt: skip
    assert [p["Maximum"] for p in stats["Datapoints"]] == [5.5]
    assert not publish_freshness_metric(load_settings(env={}, config_file=tmp_path / "x"), 1.0)  # off by default
