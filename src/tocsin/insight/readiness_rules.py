"""Pure readiness rules: what makes a person, a policy or a service unready to be paged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

TEST_PAGE_WINDOW: Final = timedelta(days=90)

NO_METHOD: Final = "no_verified_method"
NO_HIGH_RULE: Final = "no_high_urgency_rule"
NO_RECENT_TEST: Final = "no_recent_test_page"
LEVEL_REACHES_NOBODY: Final = "level_reaches_nobody"
TARGET_DELETED: Final = "target_deleted"
POLICY_EMPTY: Final = "policy_has_no_levels"
SERVICE_NO_POLICY: Final = "service_without_policy"

SAY: Final = {
    NO_METHOD: "has no verified contact method: pages cannot reach them",
    NO_HIGH_RULE: "has no way to be notified of high-urgency pages",
    NO_RECENT_TEST: "has not acknowledged a test page in 90 days",
    LEVEL_REACHES_NOBODY: "reaches nobody right now",
    TARGET_DELETED: "targets something that was deleted",
    POLICY_EMPTY: "has no levels",
    SERVICE_NO_POLICY: "has no escalation policy: its incidents page nobody",
}


@dataclass(frozen=True)
class PersonFacts:
    user_id: str
    name: str
    email: str
    rotations: tuple[str, ...]  # where they take part: "schedule Payments primary", …
    verified_methods: int
    high_urgency_steps: int
    last_acknowledged_test_at: datetime | None


@dataclass(frozen=True)
class Finding:
    """One thing to fix: ``subject`` is a person, a policy (and level) or a service."""

    kind: str  # person | policy | service
    subject: str
    problem: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return f"{self.subject} {SAY.get(self.problem, self.problem)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "problem": self.problem,
            "message": self.message,
            **self.detail,
        }


def person_findings(facts: PersonFacts, *, now: datetime) -> list[Finding]:
    detail = {"user_id": facts.user_id, "email": facts.email, "rotations": list(facts.rotations)}
    out: list[Finding] = []
    if facts.verified_methods == 0:
        out.append(Finding("person", facts.name, NO_METHOD, detail))
    elif facts.high_urgency_steps == 0:
        out.append(Finding("person", facts.name, NO_HIGH_RULE, detail))
    last = facts.last_acknowledged_test_at
    if last is None or now - last > TEST_PAGE_WINDOW:
        out.append(
            Finding(
                "person",
                facts.name,
                NO_RECENT_TEST,
                {**detail, "last_acknowledged_test_at": None if last is None else last.isoformat()},
            )
        )
    return out


@dataclass(frozen=True)
class LevelFacts:
    policy: str
    level: int  # 1-based
    targets: int
    deleted_targets: Sequence[str]  # kinds of targets that no longer exist
    reachable_now: int  # people the level resolves to right now (shadows excluded)


def level_findings(facts: LevelFacts) -> list[Finding]:
    subject = f"Policy {facts.policy}, level {facts.level},"
    detail = {"policy": facts.policy, "level": facts.level}
    out: list[Finding] = []
    if facts.deleted_targets:
        out.append(
            Finding(
                "policy",
                subject,
                TARGET_DELETED,
                {**detail, "deleted": list(facts.deleted_targets)},
            )
        )
    if facts.reachable_now == 0:
        out.append(Finding("policy", subject, LEVEL_REACHES_NOBODY, detail))
    return out


def policy_findings(policy: str, levels: Sequence[LevelFacts]) -> list[Finding]:
    if not levels:
        return [Finding("policy", f"Policy {policy}", POLICY_EMPTY, {"policy": policy})]
    return [f for level in levels for f in level_findings(level)]


def service_findings(name: str, *, has_policy: bool) -> list[Finding]:
    if has_policy:
        return []
    return [Finding("service", f"Service {name}", SERVICE_NO_POLICY, {"service": name})]


@dataclass(frozen=True)
class Report:
    """Everything that would keep a page from reaching a person, checked at ``checked_at``."""

    checked_at: datetime
    people_checked: int
    policies_checked: int
    services_checked: int
    findings: tuple[Finding, ...]

    @property
    def ready(self) -> bool:
        return not self.findings

    def of_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def to_json(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at.isoformat(),
            "ready": self.ready,
            "people_checked": self.people_checked,
            "policies_checked": self.policies_checked,
            "services_checked": self.services_checked,
            "people": [f.to_json() for f in self.of_kind("person")],
            "policies": [f.to_json() for f in self.of_kind("policy")],
            "services": [f.to_json() for f in self.of_kind("service")],
        }
