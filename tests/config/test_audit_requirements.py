"""`make lint`'s dependency audit (scripts/audit_requirements.py): fails on known vulnerabilities
when the advisory data was reached; where it was not, a notice and no failure (report only)."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
spec = importlib.util.spec_from_file_location("audit_requirements", ROOT / "scripts" / "audit_requirements.py")
audit = importlib.util.module_from_spec(spec)
sys.modules.setdefault("audit_requirements", audit)  # dataclasses look their module up there
spec.loader.exec_module(audit)

NOT_FOUND = "Dependency not found on PyPI and could not be audited"


def test_a_known_vulnerability_fails_lint_and_says_what_to_upgrade():
    report = {
        "dependencies": [
            {
                "name": "django",
                "version": "5.2.0",
                "vulns": [
                    {
                        "id": "PYSEC-2025-1",
                        "aliases": ["CVE-2025-0001"],
                        "fix_versions": ["5.2.1"],
                        "description": "SQL injection in a rare lookup.\nMore text.",
                    }
                ],
            },
            {"name": "requests", "version": "2.34.2", "vulns": []},
        ]
    }
    code, lines = audit.verdict(audit.read_report(report))
    text = "\n".join(lines)
    assert code == 1
    assert "django 5.2.0: PYSEC-2025-1 (CVE-2025-0001); fixed in: 5.2.1; SQL injection in a rare lookup." in text


def test_no_finding_passes_and_names_what_could_not_be_audited():
    report = {
        "dependencies": [
            {"name": "django", "version": "5.2.19", "vulns": []},
            {"name": "private-pkg", "version": "1.0", "skip_reason": NOT_FOUND},
        ]
    }
    code, lines = audit.verdict(audit.read_report(report))
    assert code == 0 and any("private-pkg 1.0" in line for line in lines) and "1 package(s) audited" in lines[-1]


def test_an_unreachable_advisory_service_is_a_notice_not_a_failure():
    # what a PyPI mirror without the JSON API gives: every package skipped, "no known vulnerabilities"
    report = {"dependencies": [{"name": n, "version": "1", "skip_reason": NOT_FOUND} for n in ("a", "b")]}
    code, lines = audit.verdict(audit.read_report(report))
    assert code == 0 and "NOTICE" in lines[0] and "nothing was audited" in lines[0]


def test_make_lint_runs_the_audit_and_make_test_does_not():
    makefile = (ROOT / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    test = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/audit_requirements.py" in lint and "audit" not in test
