"""What ``zoom-brevo sandbox`` prints on start: where it listens, what it holds, what to try.

The lines name every meeting and webinar of the scenario with its number and the UUID of
each instance, and give commands that work against it as they are (the configuration the
command prints on standard output saved as ``CONFIG_FILE``).
"""

from __future__ import annotations

from collections.abc import Iterator

from zoom_brevo.sandbox.scenario import Instance, Meeting, Scenario, Webinar

CONFIG_FILE = "sandbox.yaml"
_TIME = "%Y-%m-%d %H:%M UTC"


def start_lines(base_url: str, scenario: Scenario) -> list[str]:
    """The start-up listing of a sandbox serving ``scenario`` at ``base_url``."""
    return [
        f"Sandbox on {base_url} (Ctrl-C stops it):",
        f"  Zoom API   {base_url}/zoom/v2 (OAuth token: {base_url}/zoom/oauth/token)",
        f"  Brevo API  {base_url}/brevo/v3 (a new account: run setup-brevo first)",
        f"The configuration pointing at it is on standard output (> {CONFIG_FILE}).",
        "",
        "It holds (past meetings and webinars, UUID per instance):",
        *_held(scenario),
        "",
        f"Try, in another terminal, with the configuration saved as {CONFIG_FILE}:",
        *(f"  {command}" for command in try_commands(scenario)),
    ]


def try_commands(scenario: Scenario) -> list[str]:
    """Ready-to-paste commands: set up the new Brevo account, then sync what the sandbox holds."""
    prefix = f"zoom-brevo --config {CONFIG_FILE}"
    commands = [f"{prefix} setup-brevo", f"{prefix} check"]
    commands += [f"{prefix} sync meeting {m.id}" for m in scenario.meetings]
    commands += [f"{prefix} sync webinar {w.id}" for w in scenario.webinars]
    return [*commands, f"{prefix} report engagement"]


def _held(scenario: Scenario) -> Iterator[str]:
    for meeting in scenario.meetings:
        yield f"  meeting {meeting.id}  {meeting.topic!r}  (host {meeting.host.email})"
        yield from _instances(meeting)
    for webinar in scenario.webinars:
        yield (
            f"  webinar {webinar.id}  {webinar.topic!r}  (host {webinar.host.email},"
            f" {len(webinar.registrants)} registrants)"
        )
        yield from _instances(webinar)


def _instances(parent: Meeting | Webinar) -> Iterator[str]:
    for inst in parent.instances:
        yield f"    uuid {inst.uuid}  {_span(inst)}  {inst.attendee_count} attendees"


def _span(inst: Instance) -> str:
    minutes = round((inst.end - inst.start).total_seconds() / 60)
    return f"{inst.start.strftime(_TIME)}, {minutes} min"
