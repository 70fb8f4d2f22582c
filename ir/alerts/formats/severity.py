"""Each source's severity read onto one scale: critical, high, medium, low, info, unknown."""

from __future__ import annotations

import math

SEVERITIES = ("critical", "high", "medium", "low", "info", "unknown")
"""The normalised scale, most severe first."""

_WORDS = {
    # Alertmanager `severity` labels as found in the wild, ASFF labels, OCSF captions, AGT levels.
    "critical": "critical",
    "crit": "critical",
    "fatal": "critical",
    "emergency": "critical",
    "page": "critical",
    "p1": "critical",
    "sev1": "critical",
    "high": "high",
    "error": "high",
    "major": "high",
    "p2": "high",
    "sev2": "high",
    "medium": "medium",
    "moderate": "medium",
    "warning": "medium",
    "warn": "medium",
    "p3": "medium",
    "sev3": "medium",
    "low": "low",
    "minor": "low",
    "p4": "low",
    "sev4": "low",
    "info": "info",
    "informational": "info",
    "information": "info",
    "notice": "info",
    "none": "info",
    "debug": "info",
    "p5": "info",
}

_FALCO = {
    "emergency": "critical",
    "alert": "critical",
    "critical": "critical",
    "error": "high",
    "warning": "medium",
    "notice": "low",
    "informational": "info",
    "info": "info",
    "debug": "info",
}

_OCSF_IDS = {0: "unknown", 1: "info", 2: "low", 3: "medium", 4: "high", 5: "critical", 6: "critical"}


def from_word(word: str) -> str:
    """A severity word (`warning`, `HIGH`, `P2`) on the scale; `unknown` when it is not one we know."""
    return _WORDS.get(word.strip().lower(), "unknown")


def from_falco(priority: str) -> str:
    """A Falco priority (`Emergency` … `Debug`): Error is high, Warning medium, Notice low."""
    return _FALCO.get(priority.strip().lower(), "unknown")


def from_guardduty(score: float) -> str:
    """A GuardDuty score: 9–10 critical, 7–8.9 high, 4–6.9 medium, 1–3.9 low, below 1 info."""
    if math.isnan(score) or score < 0 or score > 10:
        return "unknown"
    if score >= 9:
        return "critical"
    if score >= 7:
        return "high"
    if score >= 4:
        return "medium"
    if score >= 1:
        return "low"
    return "info"


def from_asff_normalized(score: float) -> str:
    """An ASFF `Severity.Normalized` (0–100): 90+ critical, 70+ high, 40+ medium, 1+ low, 0 info."""
    if math.isnan(score) or score < 0 or score > 100:
        return "unknown"
    if score >= 90:
        return "critical"
    if score >= 70:
        return "high"
    if score >= 40:
        return "medium"
    if score >= 1:
        return "low"
    return "info"


def from_ocsf_id(severity_id: float) -> str:
    """An OCSF `severity_id`: 1 info … 5 critical, 6 fatal (critical); 0 and 99 (other) unknown."""
    if math.isnan(severity_id) or not severity_id.is_integer():
        return "unknown"
    return _OCSF_IDS.get(int(severity_id), "unknown")
