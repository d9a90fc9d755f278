"""Engagement of one person across meetings, and a lead score from 0 to 100.

Input: one ``MeetingEngagement`` per meeting instance the person was invited to or
attended (duplicates of a ``meeting_id`` collapse to the record with the most minutes).
A meeting counts as *attended* when ``minutes > 0``.

Aggregates: ``meetings_attended``; ``total_minutes`` (sum over meetings; two meetings held
at the same time both count); ``last_attended`` (latest ``last_leave`` of an attended
meeting); ``average_ratio`` (mean of the known ratios, including absences recorded with
ratio 0); ``questions`` and ``polls_answered`` (sums).

Score, with weights ``w`` from ``ScoreWeights`` and ``now`` injected::

    A = average_ratio, or 0 when no ratio is known                       (attendance)
    F = n / (n + frequency_half_point),   n = meetings attended          (frequency)
    R = 0.5 ** (days_since_last_attended / recency_half_life_days),
        0 when never attended; a last_attended in the future counts as now (recency)
    P = q / (q + participation_half_point), q = questions + polls answered (participation)
    score = 100 * (wA*A + wF*F + wR*R + wP*P) / (wA + wF + wR + wP)

``days_since_last_attended`` counts whole UTC calendar days (today minus the day of
``ZOOM_LAST_ATTENDED``) and the score is rounded half up to whole points: it changes at most
once a day, so two runs minutes apart give (and send) the same score.

Each part lies in 0..1, so the score lies in 0..100. It never decreases when a ratio, a
count of meetings attended, questions or polls grows, nor when the last attendance is more
recent; F and P saturate, so the 20th meeting adds less than the 2nd.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from zoom_brevo.engagement.attendance import Attendance
from zoom_brevo.engagement.intervals import require_aware
from zoom_brevo.engagement.participation import Participation


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """Weights of the four parts of the score and the shape of the saturating curves."""

    attendance: float = 40.0
    frequency: float = 25.0
    recency: float = 20.0
    participation: float = 15.0
    frequency_half_point: float = 3.0
    recency_half_life_days: float = 30.0
    participation_half_point: float = 2.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"score weight {field.name} must be a finite number >= 0")
        for name in ("frequency_half_point", "recency_half_life_days", "participation_half_point"):
            if getattr(self, name) <= 0:
                raise ValueError(f"score weight {name} must be > 0")
        if self.total_weight <= 0:
            raise ValueError("at least one score weight must be > 0")

    @property
    def total_weight(self) -> float:
        """Sum of the four part weights."""
        return self.attendance + self.frequency + self.recency + self.participation


DEFAULT_WEIGHTS = ScoreWeights()


@dataclass(frozen=True, slots=True)
class MeetingEngagement:
    """One person's engagement in one meeting instance."""

    meeting_id: str
    minutes: float
    ratio: float | None = None
    last_leave: datetime | None = None
    questions: int = 0
    polls_answered: int = 0

    def __post_init__(self) -> None:
        if not math.isfinite(self.minutes) or self.minutes < 0:
            raise ValueError(f"minutes must be a finite number >= 0, got {self.minutes!r}")
        if self.ratio is not None and not 0.0 <= self.ratio <= 1.0:
            raise ValueError(f"ratio must lie in 0..1, got {self.ratio!r}")
        if self.questions < 0 or self.polls_answered < 0:
            raise ValueError("questions and polls_answered must be >= 0")
        if self.last_leave is not None:
            require_aware(self.last_leave, "last_leave")

    @property
    def attended(self) -> bool:
        """True when the person spent time in the meeting."""
        return self.minutes > 0


def meeting_engagement(
    meeting_id: str, attended: Attendance, participation: Participation | None = None
) -> MeetingEngagement:
    """The record for one meeting from a person's attendance and participation in it."""
    taken = participation or Participation()
    return MeetingEngagement(
        meeting_id=meeting_id,
        minutes=attended.minutes,
        ratio=attended.ratio,
        last_leave=attended.last_leave,
        questions=taken.questions,
        polls_answered=taken.polls_answered,
    )


@dataclass(frozen=True, slots=True)
class EngagementSummary:
    """A person's engagement across meetings and their score (0..100)."""

    meetings_attended: int
    total_minutes: float
    last_attended: datetime | None
    average_ratio: float | None
    questions: int
    polls_answered: int
    score: float


def _saturating(count: float, half_point: float) -> float:
    return count / (count + half_point)


def _recency(last: datetime | None, now: datetime, half_life_days: float) -> float:
    if last is None:
        return 0.0
    # Whole UTC days, not hours: the score must not move between two runs of the same day.
    days = max((now.astimezone(UTC).date() - last.astimezone(UTC).date()).days, 0)
    return float(0.5 ** (days / half_life_days))


def whole_points(score: float) -> float:
    """``score`` rounded half up to a whole point (``72.5`` -> ``73.0``)."""
    return float(math.floor(score + 0.5))


def engagement_score(
    *,
    average_ratio: float | None,
    meetings_attended: int,
    last_attended: datetime | None,
    participations: int,
    now: datetime,
    weights: ScoreWeights = DEFAULT_WEIGHTS,
) -> float:
    """The score from its inputs (formula in the module docstring), whole points 0..100."""
    require_aware(now, "now")
    parts = (
        (weights.attendance, average_ratio or 0.0),
        (weights.frequency, _saturating(meetings_attended, weights.frequency_half_point)),
        (weights.recency, _recency(last_attended, now, weights.recency_half_life_days)),
        (weights.participation, _saturating(participations, weights.participation_half_point)),
    )
    score = 100.0 * sum(w * part for w, part in parts) / weights.total_weight
    return whole_points(min(100.0, max(0.0, score)))


def _deduplicated(records: Iterable[MeetingEngagement]) -> list[MeetingEngagement]:
    best: dict[str, MeetingEngagement] = {}
    for record in records:
        kept = best.get(record.meeting_id)
        if kept is None or _rank(record) > _rank(kept):
            best[record.meeting_id] = record
    return list(best.values())


def _rank(r: MeetingEngagement) -> tuple[object, ...]:
    leave = r.last_leave.timestamp() if r.last_leave else -math.inf
    return (r.minutes, -1.0 if r.ratio is None else r.ratio, leave, r.questions, r.polls_answered)


def summarize(
    records: Iterable[MeetingEngagement], *, now: datetime, weights: ScoreWeights = DEFAULT_WEIGHTS
) -> EngagementSummary:
    """Aggregate one person's meetings and score them (see the module docstring)."""
    meetings = _deduplicated(records)
    attended = [m for m in meetings if m.attended]
    ratios = [m.ratio for m in meetings if m.ratio is not None]
    leaves = [m.last_leave for m in attended if m.last_leave is not None]
    average_ratio = sum(ratios) / len(ratios) if ratios else None
    last_attended = max(leaves) if leaves else None
    questions = sum(m.questions for m in meetings)
    polls = sum(m.polls_answered for m in meetings)
    return EngagementSummary(
        meetings_attended=len(attended),
        total_minutes=sum(m.minutes for m in attended),
        last_attended=last_attended,
        average_ratio=average_ratio,
        questions=questions,
        polls_answered=polls,
        score=engagement_score(
            average_ratio=average_ratio,
            meetings_attended=len(attended),
            last_attended=last_attended,
            participations=questions + polls,
            now=now,
            weights=weights,
        ),
    )
