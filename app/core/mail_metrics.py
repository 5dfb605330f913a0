"""The mail outbox as Prometheus series, on the app's registry (see app.core.metrics).

Counters are exported at 0 from start-up so rate() and alerts work from the first scrape.
The depth and age gauges are sampled by the outbox worker from the table; with several
workers every one sees the same table, so the gauges keep the largest value ("max").
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Queueing to delivery: seconds normally, minutes while SMTP is down and retries back off.
_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


class MailMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, doc: str) -> Counter:
            series = Counter(name, doc, registry=registry)
            series.inc(0)
            return series

        self.queued = counter("mail_queued", "Mails written to the outbox (committed).")
        self.sent = counter("mail_sent", "Mails the SMTP server accepted.")
        self.retried = counter("mail_retried", "Failed attempts that will be retried.")
        self.dead = counter("mail_dead", "Mails given up on after MAIL_MAX_ATTEMPTS attempts.")
        self.outbox_depth = Gauge(
            "mail_outbox_depth",
            "Mails not yet delivered (due, claimed, or waiting for a retry).",
            registry=registry,
            multiprocess_mode="max",
        )
        self.oldest_due_seconds = Gauge(
            "mail_outbox_oldest_due_age_seconds",
            "Age of the oldest mail that is due and not claimed (0 when none).",
            registry=registry,
            multiprocess_mode="max",
        )
        self.delivery_seconds = Histogram(
            "mail_delivery_latency_seconds",
            "Time from queueing a mail to the SMTP server accepting it.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
