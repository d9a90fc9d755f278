"""Pure engagement computations: interval union, attendance, participation, lead score.

No I/O and no clock: the current time is passed in as ``now`` where it matters. See
``docs/engagement.md`` for the definitions and the score formula.
"""

from zoom_brevo.engagement.attendance import (
    Attendance,
    PersonAttendance,
    attendance,
    attended_intervals,
    meeting_attendance,
)
from zoom_brevo.engagement.identity import Person, PersonRows, group_by_person
from zoom_brevo.engagement.intervals import Interval, union
from zoom_brevo.engagement.participation import (
    LastAnswers,
    Participation,
    PollAnswer,
    QuestionAsked,
    Tally,
    combine,
    count_participation,
)
from zoom_brevo.engagement.score import (
    DEFAULT_WEIGHTS,
    EngagementSummary,
    MeetingEngagement,
    ScoreWeights,
    engagement_score,
    meeting_engagement,
    summarize,
)
from zoom_brevo.engagement.session import SessionRow

__all__ = [
    "DEFAULT_WEIGHTS",
    "Attendance",
    "EngagementSummary",
    "Interval",
    "LastAnswers",
    "MeetingEngagement",
    "Participation",
    "Person",
    "PersonAttendance",
    "PersonRows",
    "PollAnswer",
    "QuestionAsked",
    "ScoreWeights",
    "SessionRow",
    "Tally",
    "attendance",
    "attended_intervals",
    "combine",
    "count_participation",
    "engagement_score",
    "group_by_person",
    "meeting_attendance",
    "meeting_engagement",
    "summarize",
    "union",
]
