"""Prometheus metrics: one registry per app (never the process-global one).

:class:`Metrics` holds the instruments others record into (webhook outcomes, delivery
latency, API calls and 429s per service and category). It is the API clients' and the
deliverer's observer (``zoom_brevo.observe``), so what they do is counted where it
happens. Queue depths are not counted in memory: :class:`StoreCollector` reads them from
the database at scrape time, so every process sharing the database reports the same truth.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from sqlalchemy.engine import Engine

from zoom_brevo.errors import StoreError
from zoom_brevo.observe import ApiCall
from zoom_brevo.store import deauthorizations, inbox, jobs, outbox
from zoom_brevo.store.engine import reading

PREFIX = "zoom_brevo"
INBOX_STATUSES = ("pending", "processed", "ignored", "failed")
# Zoom wants an answer within 3 s (reference zoom.md 4.3); buckets resolve well below it.
ACK_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
API_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DELIVERY_BUCKETS_S = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0)


class Metrics:
    """The instruments of one process, in their own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.webhooks_received = Counter(
            f"{PREFIX}_webhooks_received", "Requests to POST /webhooks/zoom.", registry=r
        )
        self.webhooks_accepted = Counter(
            f"{PREFIX}_webhooks_accepted",
            "Webhooks answered 200, by outcome (stored, duplicate, url_validation).",
            ["outcome"],
            registry=r,
        )
        self.webhooks_rejected = Counter(
            f"{PREFIX}_webhooks_rejected",
            "Webhooks refused, by reason (bad_signature, body_too_large, store_unavailable...).",
            ["reason"],
            registry=r,
        )
        self.webhook_ack_seconds = Histogram(
            f"{PREFIX}_webhook_ack_seconds",
            "Time from request to answer on POST /webhooks/zoom.",
            buckets=ACK_BUCKETS_S,
            registry=r,
        )
        self.delivery_latency_seconds = Histogram(
            f"{PREFIX}_delivery_latency_seconds",
            "Time from a command entering the outbox to Brevo accepting it, by kind.",
            ["kind"],
            buckets=DELIVERY_BUCKETS_S,
            registry=r,
        )
        self.api_calls = Counter(
            f"{PREFIX}_api_calls",
            "Calls to Zoom or Brevo (each try), by service, rate-limit category/family and "
            "HTTP status (0: no answer).",
            ["service", "category", "status"],
            registry=r,
        )
        self.api_call_seconds = Histogram(
            f"{PREFIX}_api_call_seconds",
            "Time from sending a call to Zoom or Brevo to its status line, by service.",
            ["service"],
            buckets=API_BUCKETS_S,
            registry=r,
        )
        self.api_rate_limited = Counter(
            f"{PREFIX}_api_rate_limited",
            "HTTP 429 answers from Zoom or Brevo, by service and category/family.",
            ["service", "category"],
            registry=r,
        )
        self.worker_up = Gauge(
            f"{PREFIX}_worker_up", "1 while the in-process worker runs.", registry=r
        )

    def record_api_call(
        self, service: str, category: str, status: int, latency_s: float | None = None
    ) -> None:
        """Count one API call (and a 429 among them); observe its latency if given."""
        self.api_calls.labels(service, category, str(status)).inc()
        if status == 429:
            self.api_rate_limited.labels(service, category).inc()
        if latency_s is not None:
            self.api_call_seconds.labels(service).observe(max(latency_s, 0.0))

    def observe_delivery(self, kind: str, latency_s: float) -> None:
        """Record how long one command waited in the outbox before Brevo took it."""
        self.delivery_latency_seconds.labels(kind).observe(max(latency_s, 0.0))

    def on_api_call(self, call: ApiCall) -> None:
        """``observe.ApiObserver``: the clients' hook, recorded by ``record_api_call``."""
        self.record_api_call(call.service, call.category, call.status, call.latency_s)

    def on_delivered(self, kind: str, latency_s: float) -> None:
        """``observe.DeliveryObserver``: the deliverer's hook, recorded by ``observe_delivery``."""
        self.observe_delivery(kind, latency_s)

    def watch_store(self, engine: Engine) -> None:
        """Report inbox, job and outbox depths from ``engine`` at every scrape."""
        self.registry.register(StoreCollector(engine))

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type (blocking: reads the store)."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class StoreCollector:
    """Queue depths read from the database when scraped; ``store_up`` 0 when it cannot be."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        """The gauges of one scrape."""
        up = GaugeMetricFamily(f"{PREFIX}_store_up", "1 if the database answered the scrape.")
        try:
            with reading(self._engine) as conn:
                depths = inbox.counts(conn), jobs.counts(conn), outbox.counts(conn)
                deauths = deauthorizations.read(conn)
        except (sa.exc.SQLAlchemyError, StoreError):
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        inbox_counts, job_counts, outbox_counts = depths
        yield _family("inbox_events", "Inbox events by status.", "status", inbox_counts)
        yield _family("jobs", "Jobs by state.", "state", job_counts)
        yield _family("outbox_commands", "Outbox commands by state.", "state", outbox_counts)
        yield _deauthorizations(deauths)


def _deauthorizations(found: deauthorizations.Deauthorizations) -> CounterMetricFamily:
    family = CounterMetricFamily(
        f"{PREFIX}_deauthorizations",
        "app_deauthorized events: erased (the served account) or ignored (another account).",
        labels=["outcome"],
    )
    for outcome in deauthorizations.OUTCOMES:
        family.add_metric([outcome], (found.counts or {}).get(outcome, 0))
    return family


def _family(name: str, doc: str, label: str, counts: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=[label])
    keys = INBOX_STATUSES if name == "inbox_events" else ()
    for key in sorted({*keys, *counts}):
        family.add_metric([key], counts.get(key, 0))
    return family
