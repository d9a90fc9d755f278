"""Who is who among the session rows of one meeting.

Zoom gives a new per-session ``user_id`` on every rejoin, so one person has many rows
(reference zoom.md 2.3). Rows are grouped into people by linking identifiers:

1. ``participant_user_id`` (the Zoom user of a signed-in participant),
2. ``registrant_id``,
3. the lower-cased, stripped ``email``,
4. ``session_id`` (Zoom's per-session ``user_id``).

Two rows belong to the same person when they share *any* of these identifiers, and the
relation is transitive: a row carrying both a ``participant_user_id`` and an email links
every row with that user id to every row with that email (union-find, near-linear).

Rows with none of the four (a guest without email whose session id is also missing) each
stay a person of their own, keyed by their content (name and times). Names are deliberately
*not* an identifier: "iPhone" or "Guest" are shared by strangers. The cost of this choice
is that a guest who rejoins under a new session id counts as two people; such guests have
no email and never reach Brevo, so only per-meeting head counts are affected.

A person's ``key`` is the strongest identifier of the group (in the order above; the
smallest value within a kind), so keys do not depend on row order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from zoom_brevo.engagement.session import SessionRow

IDENTIFIER_KINDS = ("user", "registrant", "email", "session")


@dataclass(frozen=True, slots=True)
class Person:
    """One person in one meeting, with the identifiers seen on their rows."""

    key: str
    participant_user_id: str | None = None
    registrant_id: str | None = None
    email: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class PersonRows:
    """A person and their session rows, sorted by join time."""

    person: Person
    rows: tuple[SessionRow, ...]


def clean(value: str | None) -> str:
    """``value`` stripped; ``None`` becomes the empty string."""
    return (value or "").strip()


def normalize_email(value: str | None) -> str:
    """The email as used for matching: stripped and lower-cased (empty when absent)."""
    return clean(value).lower()


def identifiers(row: SessionRow) -> tuple[str, ...]:
    """The row's linking identifiers as ``kind:value`` strings, strongest first."""
    values = (
        clean(row.participant_user_id),
        clean(row.registrant_id),
        normalize_email(row.email),
        clean(row.session_id),
    )
    return tuple(
        f"{kind}:{value}" for kind, value in zip(IDENTIFIER_KINDS, values, strict=True) if value
    )


def _content_key(row: SessionRow) -> str:
    leave = row.leave_time.isoformat() if row.leave_time else ""
    return f"guest:{clean(row.name)}|{row.join_time.isoformat()}|{leave}|{row.status}"


def _sort_key(row: SessionRow) -> tuple[object, ...]:
    return (
        row.join_time,
        row.leave_time or row.join_time,
        row.status,
        *identifiers(row),
        clean(row.name),
    )


class _DisjointSet:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        root = self.parent.setdefault(item, item)
        while root != self.parent[root]:
            root = self.parent[root]
        while item != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def link(self, items: Sequence[str]) -> None:
        roots = [self.find(i) for i in items]
        for other in roots[1:]:
            self.parent[other] = roots[0]


def _strongest(ids: Iterable[str]) -> str:
    return min(ids, key=lambda i: (IDENTIFIER_KINDS.index(i.split(":", 1)[0]), i))


def _first_of_kind(ids: set[str], kind: str) -> str | None:
    values = sorted(i.split(":", 1)[1] for i in ids if i.startswith(f"{kind}:"))
    return values[0] if values else None


def _person(rows: Sequence[SessionRow], ids: set[str], key: str) -> Person:
    names = [clean(r.name) for r in rows if clean(r.name)]
    return Person(
        key=key,
        participant_user_id=_first_of_kind(ids, "user"),
        registrant_id=_first_of_kind(ids, "registrant"),
        email=_first_of_kind(ids, "email"),
        name=names[0] if names else None,
    )


def group_by_person(rows: Iterable[SessionRow]) -> tuple[PersonRows, ...]:
    """Group one meeting's rows into people (see the module docstring); sorted by key."""
    ordered = sorted(rows, key=_sort_key)
    links = _DisjointSet()
    row_keys: list[str] = []
    for row in ordered:
        ids = identifiers(row) or (_content_key(row),)
        links.link(ids)
        row_keys.append(ids[0])
    groups: dict[str, list[SessionRow]] = defaultdict(list)
    for row, row_key in zip(ordered, row_keys, strict=True):
        groups[links.find(row_key)].append(row)
    people = []
    for members in groups.values():
        seen = {i for r in members for i in identifiers(r)}
        key = _strongest(seen) if seen else _content_key(members[0])
        people.append(PersonRows(_person(members, seen, key), tuple(members)))
    return tuple(sorted(people, key=lambda p: p.person.key))
