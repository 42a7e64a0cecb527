"""Writes for the catalogue: loading case studies, their interviewer guides and the rubric
from ``interviews/catalogue/``, rubric versions, and the demo accounts."""

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction

from interviews.models import (
    CaseStudy,
    ClarifyingQuestion,
    Concept,
    GuideStep,
    Rubric,
    RubricStep,
    StepBudget,
)
from mlsd_site import roles

logger = logging.getLogger(__name__)

CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "catalogue"


@dataclass(frozen=True)
class CatalogueLoadResult:
    rubric: Rubric
    rubric_created: bool
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    guide_steps_written: int = 0  # guide steps created or rewritten by this load


def _rubric_content(rubric: Rubric) -> list[dict]:
    return [
        {
            "number": step.number,
            "slug": step.slug,
            "title": step.title,
            "weight": str(step.weight.normalize()),
            "default_minutes": step.default_minutes,
            "guidance": step.guidance,
            "descriptors": [step.descriptor_1, step.descriptor_2, step.descriptor_3,
                            step.descriptor_4],
        }
        for step in rubric.steps.order_by("number")
    ]


def _rubric_steps_from_json(data: dict) -> list[dict]:
    steps = []
    for step in data["steps"]:
        steps.append(
            {
                "number": step["number"],
                "slug": step["slug"],
                "title": step["title"],
                "weight": str(Decimal(str(step["weight"])).normalize()),
                "default_minutes": step["default_minutes"],
                "guidance": step["guidance"],
                "descriptors": [step["descriptors"][str(level)] for level in range(1, 5)],
            }
        )
    communication = data["communication"]
    steps.append(
        {
            "number": RubricStep.COMMUNICATION_NUMBER,
            "slug": "communication",
            "title": communication["title"],
            "weight": "0",
            "default_minutes": None,
            "guidance": communication["guidance"],
            "descriptors": [communication["descriptors"][str(level)] for level in range(1, 5)],
        }
    )
    return steps


@transaction.atomic
def rubric_ensure(*, data: dict) -> tuple[Rubric, bool]:
    """Make ``data`` the current rubric. If the current version already says the same, keep
    it; otherwise add a new version, so grades given under the old one keep their meaning."""
    wanted = _rubric_steps_from_json(data)
    current = Rubric.objects.filter(is_current=True).first()
    if current is not None and _rubric_content(current) == wanted:
        return current, False
    return rubric_new_version(name=data["name"], steps=wanted), True


@transaction.atomic
def rubric_new_version(*, name: str, steps: list[dict]) -> Rubric:
    """Add a rubric version with ``steps`` and make it current."""
    latest = Rubric.objects.select_for_update().order_by("-version").first()
    Rubric.objects.filter(is_current=True).update(is_current=False)
    rubric = Rubric.objects.create(
        name=name, version=(latest.version + 1) if latest else 1, is_current=True
    )
    RubricStep.objects.bulk_create(
        RubricStep(
            rubric=rubric,
            number=step["number"],
            slug=step["slug"],
            title=step["title"],
            weight=Decimal(step["weight"]),
            default_minutes=step["default_minutes"],
            guidance=step["guidance"],
            descriptor_1=step["descriptors"][0],
            descriptor_2=step["descriptors"][1],
            descriptor_3=step["descriptors"][2],
            descriptor_4=step["descriptors"][3],
        )
        for step in steps
    )
    return rubric


def rubric_copy_as_new_version(*, rubric: Rubric) -> Rubric:
    """Start editing a rubric: copy it to a new current version (admin action)."""
    return rubric_new_version(name=rubric.name, steps=_rubric_content(rubric))


def _case_study_fields(data: dict) -> dict:
    return {
        "title": data["title"],
        "order": data["order"],
        "summary": data["summary"],
        "prompt": data["prompt"],
        "task_type": data["task_type"],
        "primary_metric": data["primary_metric"],
        "secondary_metrics": data["secondary_metrics"],
        "online_metrics": data["online_metrics"],
        "latency_budget_ms": data["latency_budget_ms"],
        "target_rate_rps": float(data["target_rate_rps"]),
        "duration_seconds": data["length_minutes"] * 60,
    }


@transaction.atomic
def case_study_upsert(*, data: dict, overwrite: bool) -> tuple[CaseStudy, str]:
    """Create the case study from catalogue ``data``. An existing one is left as the admin
    edited it unless ``overwrite``; returns the row and "created", "updated" or "unchanged"."""
    case = CaseStudy.objects.filter(slug=data["slug"]).first()
    if case is not None and not overwrite:
        return case, "unchanged"
    outcome = "updated" if case else "created"
    if case is None:
        case = CaseStudy.objects.create(slug=data["slug"], **_case_study_fields(data))
    else:
        for field, value in _case_study_fields(data).items():
            setattr(case, field, value)
        case.save()
        case.budgets.all().delete()
        case.questions.all().delete()
        case.concepts.all().delete()
    StepBudget.objects.bulk_create(
        StepBudget(case_study=case, step_number=int(number), seconds=int(minutes) * 60)
        for number, minutes in data["step_minutes"].items()
    )
    ClarifyingQuestion.objects.bulk_create(
        ClarifyingQuestion(case_study=case, order=index, question=qa["question"],
                           answer=qa["answer"])
        for index, qa in enumerate(data["clarifying_questions"], start=1)
    )
    Concept.objects.bulk_create(
        Concept(case_study=case, step_number=int(number), name=concept["name"],
                synonyms=concept["synonyms"])
        for number, concepts in data["concepts"].items()
        for concept in concepts
    )
    return case, outcome


GUIDE_FORMAT_VERSIONS = {1}


def _guide_step_fields(step: dict) -> dict:
    return {
        "answer_key": step["answer_key"],
        "probes": step["probes"],
        "requirement_changes": step["requirement_changes"],
        "red_flags": step["red_flags"],
    }


@transaction.atomic
def guide_upsert(*, case_study: CaseStudy, data: dict, overwrite: bool) -> int:
    """Load the interviewer guide of ``case_study`` from ``guides/<slug>.json`` ``data``.

    A step missing from the database is created, so a guide reaches case studies loaded
    before it existed. A step already there is left as the admin edited it unless
    ``overwrite``, as ``case_study_upsert`` treats the case study; ``overwrite`` also drops
    steps the file no longer has. Returns how many steps were created or rewritten (0 when
    nothing changed). Raises ``ValueError`` for a file of another case study or format."""
    if data.get("case_study") != case_study.slug:
        raise ValueError(f"The guide for {data.get('case_study')!r} is not {case_study.slug!r}'s.")
    if data.get("version") not in GUIDE_FORMAT_VERSIONS:
        raise ValueError(f"Unknown guide format version {data.get('version')!r}.")
    wanted = {int(number): _guide_step_fields(step) for number, step in data["steps"].items()}
    existing = {row.step_number: row for row in case_study.guide.all()}
    written = 0
    for number, fields in sorted(wanted.items()):
        row = existing.get(number)
        if row is None:
            GuideStep.objects.create(case_study=case_study, step_number=number, **fields)
        elif overwrite and any(getattr(row, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(row, name, value)
            row.save()
        else:
            continue
        written += 1
    if overwrite:
        case_study.guide.exclude(step_number__in=wanted).delete()
    return written


def catalogue_load(*, directory: Path = CATALOGUE_DIR, overwrite: bool = False
                   ) -> CatalogueLoadResult:
    """Load the rubric, every case study under ``directory`` and the guide of each that has
    one (``guides/<slug>.json``; a case study without a guide loads all the same); safe to
    run again."""
    rubric_data = json.loads((directory / "rubric.json").read_text(encoding="utf-8"))
    rubric, rubric_created = rubric_ensure(data=rubric_data)
    created, updated, unchanged = [], [], []
    guide_steps_written = 0
    for path in sorted((directory / "case_studies").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        case, outcome = case_study_upsert(data=data, overwrite=overwrite)
        {"created": created, "updated": updated, "unchanged": unchanged}[outcome].append(
            case.slug
        )
        guide_path = directory / "guides" / f"{case.slug}.json"
        if guide_path.exists():
            guide_steps_written += guide_upsert(
                case_study=case, data=json.loads(guide_path.read_text(encoding="utf-8")),
                overwrite=overwrite,
            )
    return CatalogueLoadResult(rubric, rubric_created, created, updated, unchanged,
                               guide_steps_written)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str


DEMO_ACCOUNTS = (
    DemoAccount("admin", "admin-demo-pass", "admin"),
    DemoAccount("interviewer", "interviewer-demo-pass", "interviewer"),
    DemoAccount("candidate", "candidate-demo-pass", "candidate"),
)


@transaction.atomic
def demo_accounts_ensure() -> list[DemoAccount]:
    """Create (or reset) the demo admin, interviewer and candidate. For local use only: their
    passwords are published, so the ``demo_accounts`` command refuses to call this with
    ``DEBUG=0``; tests call it directly."""
    groups = roles.roles_ensure()
    user_model = get_user_model()
    for account in DEMO_ACCOUNTS:
        user: AbstractUser
        user, _ = user_model.objects.get_or_create(username=account.username)
        user.email = f"{account.username}@example.com"
        user.set_password(account.password)
        user.is_staff = account.role == "admin"
        user.is_superuser = account.role == "admin"
        user.save()
        if account.role == "admin":
            user.groups.set([groups[roles.ADMINS]])
        elif account.role == "interviewer":
            user.groups.set([groups[roles.INTERVIEWERS]])
        else:
            user.groups.clear()
    return list(DEMO_ACCOUNTS)
