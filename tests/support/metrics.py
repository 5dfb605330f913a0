"""Reading /metrics the way Prometheus does: parse the text format into samples."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families


class Samples:
    """One scrape: sample values by name and labels (missing samples read as 0)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.values: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.values[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name: str, **labels: str) -> float:
        return self.values.get((name, frozenset(labels.items())), 0.0)

    def named(self, prefix: str) -> Mapping[tuple[str, frozenset[tuple[str, str]]], float]:
        return {key: v for key, v in self.values.items() if key[0].startswith(prefix)}

    def has(self, name: str) -> bool:
        return any(key[0] == name for key in self.values)


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Samples(response.text)
