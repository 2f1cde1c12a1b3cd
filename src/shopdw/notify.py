"""Failure notifications through pluggable notifiers: a webhook URL and an AWS SNS topic to begin with.

A notifier is any callable `(subject, message) -> None` registered in NOTIFIER_FACTORIES under
the name of the setting that enables it. A notifier that fails is reported on stderr and
never hides the failure it was reporting.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Callable

from shopdw.config import Settings

Notifier = Callable[[str, str], None]


def webhook_notifier(settings: Settings) -> Notifier | None:
    """POST {"subject", "text"} as JSON (Slack/Teams/any HTTP endpoint) to notify_webhook_url."""
    if not settings.notify_webhook_url:
        return None
    url = settings.notify_webhook_url.reveal()
    if not url.startswith(("http://", "https://")):
        from shopdw.errors import ConfigError

        raise ConfigError("notify_webhook_url (SHOPDW_NOTIFY_WEBHOOK_URL) must be an http(s) URL")

    def send(subject: str, message: str) -> None:
        body = json.dumps({"subject": subject, "text": f"{subject}\n{message}", "source": "shopdw"}).encode()
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (scheme checked above)
            resp.read()

    return send


def sns_notifier(settings: Settings) -> Notifier | None:
    """Publish to the SNS topic notify_sns_topic_arn (the one Terraform's monitoring module creates)."""
    if not settings.notify_sns_topic_arn:
        return None
    arn = settings.notify_sns_topic_arn

    def send(subject: str, message: str) -> None:
        import boto3

        region = arn.split(":")[3] if arn.count(":") >= 5 else None
        boto3.client("sns", region_name=region).publish(TopicArn=arn, Subject=subject[:100], Message=message)

    return send


NOTIFIER_FACTORIES: dict[str, Callable[[Settings], Notifier | None]] = {
    "webhook": webhook_notifier,
    "sns": sns_notifier,
}


def notify_failure(settings: Settings, subject: str, message: str) -> list[str]:
    """Send to every configured notifier; return the names of those that succeeded."""
    sent = []
    for name, factory in NOTIFIER_FACTORIES.items():
        notifier = factory(settings)
        if notifier is None:
            continue
        try:
            notifier(subject, message)
            sent.append(name)
        except (urllib.error.URLError, OSError, Exception) as e:  # a broken notifier must not mask the failure
            print(f"warning: {name} notification failed: {type(e).__name__}: {e}", file=sys.stderr)
    return sent


def publish_freshness_metric(settings: Settings, hours_since_last_load: float) -> bool:
    """Put shopdw/HoursSinceLastLoad (dimension Environment) for the Terraform freshness alarm.

    Only when settings.environment is set; failures are reported, never raised."""
    if not settings.environment:
        return False
    try:
        import boto3

        boto3.client("cloudwatch", region_name=settings.redshift_region or settings.s3_region).put_metric_data(
            Namespace="shopdw",
            MetricData=[{
                "MetricName": "HoursSinceLastLoad",
                "Dimensions": [{"Name": "Environment", "Value": settings.environment}],
                "Value": float(hours_since_last_load),
                "Unit": "None",
            }],
        )  # fmt: skip
        return True
    except Exception as e:  # the metric is monitoring, not the pipeline: never fail a run over it
        print(f"warning: could not publish the freshness metric: {type(e).__name__}: {e}", file=sys.stderr)
        return False
