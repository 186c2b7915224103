"""`make lint`: known vulnerabilities in the pinned requirements (pip-audit, PyPI's advisory data).

Fails when the advisory data was reached and lists a vulnerability; where it cannot be reached
(no network, a mirror without PyPI's JSON API) it prints a notice and passes: report only.
`make test` never runs this."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# pip-audit does not follow requirements-dev.txt's "-r requirements.txt": both are named
REQUIREMENTS = [ROOT / "requirements.txt", ROOT / "requirements-dev.txt"]
TIMEOUT_SECONDS = 300


@dataclass
class Audit:
    audited: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)


def read_report(report: dict) -> Audit:
    """pip-audit's JSON report -> what was audited, what could not be, and each finding in words."""
    audit = Audit()
    for dep in report.get("dependencies", []):
        name = f"{dep.get('name')} {dep.get('version', '')}".strip()
        if dep.get("skip_reason"):
            audit.skipped.append(f"{name}: {dep['skip_reason']}")
            continue
        audit.audited.append(name)
        for vuln in dep.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            summary = (vuln.get("description") or "").strip().splitlines()[:1]
            audit.findings.append(
                f"{name}: {vuln.get('id')}{f' ({aliases})' if aliases else ''}; fixed in: {fixes}"
                + (f"; {summary[0][:200]}" if summary else "")
            )
    return audit


def verdict(audit: Audit) -> tuple[int, list[str]]:
    """(exit code, lines to print)."""
    if not audit.audited:
        return 0, [
            "pip-audit: NOTICE: the advisory data could not be reached for any package "
            f"({len(audit.skipped)} skipped), so nothing was audited; lint goes on (report only)."
        ]
    lines = []
    if audit.skipped:
        lines.append(f"pip-audit: {len(audit.skipped)} package(s) could not be audited:")
        lines += [f"  {line}" for line in audit.skipped]
    if audit.findings:
        lines.append(f"pip-audit: {len(audit.findings)} known vulnerability(ies) in the pinned requirements:")
        lines += [f"  {line}" for line in audit.findings]
        lines.append("Upgrade the pins in requirements*.txt (or record why a finding does not apply).")
        return 1, lines
    lines.append(f"pip-audit: {len(audit.audited)} package(s) audited, no known vulnerabilities.")
    return 0, lines


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            *[arg for path in REQUIREMENTS for arg in ("--requirement", str(path))],
            "--no-deps",  # every version is pinned, transitive ones included
            "--disable-pip",  # no resolver venv: nothing is installed or downloaded
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "--output",
            str(out),
        ]
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            print(f"pip-audit: NOTICE: no answer from the advisory service in {TIMEOUT_SECONDS} s; not audited.")
            return 0
        if not out.exists() or not out.read_text().strip():
            # pip-audit stopped before writing a report: the advisory service was not reached
            last = (run.stderr.strip().splitlines() or ["(no message)"])[-1]
            print(f"pip-audit: NOTICE: the advisory service could not be reached; not audited ({last[:300]}).")
            return 0
        report = json.loads(out.read_text())
    code, lines = verdict(read_report(report))
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
