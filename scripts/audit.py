"""Supply-chain gate for CI: audit the lock file's pins with pip-audit.

A known vulnerability fails the run (exit 1). A vulnerability database that cannot be
reached (no network, a registry mirror without PyPI's JSON API) only warns: pip-audit then
reports every dependency as skipped, which must not read as "no vulnerabilities".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LOCK_FILE = Path(__file__).resolve().parents[1] / "requirements.lock"


def main() -> int:
    """Run pip-audit on the lock file and classify its JSON report."""
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "-r",
        str(LOCK_FILE),
        "--no-deps",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "-f",
        "json",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(f"audit: WARNING pip-audit gave no report (exit {done.returncode}):", file=sys.stderr)
        print(done.stderr.strip()[-2000:], file=sys.stderr)
        return 0
    return classify(report["dependencies"])


def classify(dependencies: list[dict[str, object]]) -> int:
    """Exit code for a pip-audit dependency list: 1 if anything is vulnerable."""
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = len(dependencies) - len(skipped)
    for dep in vulnerable:
        ids = ", ".join(str(v["id"]) for v in dep["vulns"])  # type: ignore[attr-defined]
        print(f"audit: VULNERABLE {dep['name']} {dep.get('version')}: {ids}", file=sys.stderr)
    if skipped:
        print(
            f"audit: WARNING {len(skipped)} of {len(dependencies)} pinned packages could not be "
            "checked (vulnerability data source unreachable from here)",
            file=sys.stderr,
        )
    print(f"audit: {audited} audited, {len(vulnerable)} vulnerable, {len(skipped)} not checkable")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
