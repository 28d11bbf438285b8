"""Issuing and revoking OpenBadgeCredentials for a teacher's rating at a level, or for an achieved goal."""

import json
from dataclasses import dataclass

from sqlmodel import Session, select

from app.access.errors import not_found
from app.access.rules import may_award_credential, may_revoke_credential
from app.config import Settings
from app.i18n import _
from app.models import (
    AuditEventKind, Artefact, Competency, CompetencyRating, Credential, Framework, Goal, GoalStatus, ProficiencyLevel, RatingArtefact,
    RatingSource, School, User,
)
from app.models.base import utcnow
from app.services.accounts import audit
from app.services.badges import keys, status, urls
from app.services.badges.issuer import issuer_profile
from app.services.badges.loader import OB_V3, VC_V2
from app.services.badges.proof import sign_document, xsd_datetime
from app.services.competencies.case_export import case_uri

REASON_MAX_LENGTH = 1000


class AlreadyAwarded(Exception):
    """The rating or goal already has a credential that is not revoked."""


def _base(settings: Settings) -> str:
    return settings.base_url.rstrip("/")


def _subject(student: User, achievement: dict) -> dict:
    # The student is named, not hashed: the credential is theirs to show, and a name is what a reader checks.
    return {
        "type": ["AchievementSubject"],
        "identifier": [{"type": "IdentityObject", "identityHash": student.display_name, "identityType": "name",
                        "hashed": False}],
        "achievement": achievement,
    }


def _issue(*, session: Session, settings: Settings, teacher: User, student: User, achievement: dict,
           evidence: list[dict], links: dict, address: str | None) -> Credential:
    school = session.get(School, student.school_id)
    credential = Credential(school_id=school.id, student_id=student.id, issued_by_id=teacher.id,
                            achievement_name=achievement["name"][:300], **links)
    session.add(credential)
    session.flush()
    status.place_status_bit(session=session, credential=credential)
    document = {
        "@context": [VC_V2, OB_V3],
        "id": urls.credential_url(settings=settings, public_id=credential.public_id),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": achievement["name"],
        "issuer": issuer_profile(settings=settings, school=school),
        "validFrom": xsd_datetime(credential.issued_at),
        "credentialSubject": _subject(student, achievement),
        "credentialStatus": status.status_entry(settings=settings, credential=credential),
    }
    if evidence:
        document["evidence"] = evidence
    key, private = keys.signing_key(session=session, settings=settings, school_id=school.id)
    method = urls.key_id(settings=settings, school_id=school.id, public_key_multibase=key.public_key_multibase)
    signed = sign_document(document=document, private_key=private, verification_method=method,
                           created=credential.issued_at)
    credential.document = json.dumps(signed, ensure_ascii=False, indent=2)
    audit.record(session=session, event=AuditEventKind.credential_issued, actor=teacher, subject=student,
                 object_description=f"credential {credential.public_id}", address=address,
                 details={"achievement": credential.achievement_name})
    return credential


def _rating_parts(*, session: Session, rating_id: int):
    return session.exec(
        select(CompetencyRating, Competency, Framework, ProficiencyLevel, User)
        .join(Competency, Competency.id == CompetencyRating.competency_id)
        .join(Framework, Framework.id == Competency.framework_id)
        .join(ProficiencyLevel, ProficiencyLevel.id == CompetencyRating.level_id)
        .join(User, User.id == CompetencyRating.student_id)
        .where(CompetencyRating.id == rating_id, CompetencyRating.source == RatingSource.teacher)
    ).first()


def awarded_rating_ids(*, session: Session, rating_ids: list[int]) -> dict[int, str]:
    """Of these ratings, those with a credential not revoked → its public id (one query)."""
    if not rating_ids:
        return {}
    rows = session.exec(select(Credential.rating_id, Credential.public_id).where(
        Credential.rating_id.in_(rating_ids), Credential.revoked_at.is_(None))).all()
    return dict(rows)


def goal_credential(*, session: Session, goal_id: int) -> Credential | None:
    """The goal's credential that is not revoked, if it has one."""
    return session.exec(select(Credential).where(Credential.goal_id == goal_id, Credential.revoked_at.is_(None))).first()


def issue_for_rating(*, session: Session, settings: Settings, teacher: User, rating_id: int,
                     address: str | None = None) -> Credential:
    """Sign a credential for a teacher rating: the competency at that level, with the rating's evidence."""
    parts = _rating_parts(session=session, rating_id=rating_id)
    if parts is None or not may_award_credential(session=session, viewer=teacher, student_id=parts[4].id):
        raise not_found()
    rating, competency, framework, level, student = parts
    if awarded_rating_ids(session=session, rating_ids=[rating.id]):
        raise AlreadyAwarded()
    base = _base(settings)
    issuer = urls.issuer_url(settings=settings, school_id=student.school_id)
    achievement = {
        "id": f"{issuer}/achievements/competency-{competency.id}-level-{level.id}",
        "type": ["Achievement"],
        "achievementType": "Competency",
        "name": f"{competency.code} {competency.name}: {level.label}",
        "description": competency.description or competency.name,
        "criteria": {"narrative": level.descriptor or _(
            "Assessed by a teacher at the level “%(level)s” of the %(framework)s scale.",
            level=level.label, framework=framework.name)},
        "alignment": [{
            "type": ["Alignment"], "targetName": competency.name, "targetCode": competency.code,
            "targetDescription": competency.description or competency.name,
            "targetFramework": framework.name, "targetType": "CFItem", "targetUrl": case_uri(competency.case_identifier),
        }],
    }
    artefacts = session.exec(
        select(Artefact).join(RatingArtefact, RatingArtefact.artefact_id == Artefact.id)
        .where(RatingArtefact.rating_id == rating.id).order_by(Artefact.occurred_on, Artefact.id)
    ).all()
    evidence = [{"id": f"{base}/artefacts/{artefact.id}", "type": ["Evidence"], "name": artefact.title}
                for artefact in artefacts]
    return _issue(session=session, settings=settings, teacher=teacher, student=student, achievement=achievement,
                  evidence=evidence, links={"rating_id": rating.id, "competency_id": competency.id, "level_id": level.id},
                  address=address)


def issue_for_goal(*, session: Session, settings: Settings, teacher: User, goal_id: int,
                   address: str | None = None) -> Credential:
    """Sign a credential for a student's achieved goal, its success criteria as the criteria."""
    goal = session.get(Goal, goal_id)
    if goal is None or not may_award_credential(session=session, viewer=teacher, student_id=goal.owner_id):
        raise not_found()
    if goal.status is not GoalStatus.achieved:
        raise not_found()
    if goal_credential(session=session, goal_id=goal.id) is not None:
        raise AlreadyAwarded()
    student = session.get(User, goal.owner_id)
    issuer = urls.issuer_url(settings=settings, school_id=student.school_id)
    achievement = {
        "id": f"{issuer}/achievements/goal-{goal.id}",
        "type": ["Achievement"],
        "achievementType": "Achievement",
        "name": goal.title,
        "description": goal.why or goal.title,
        "criteria": {"narrative": goal.success_criteria or _("The goal “%(title)s” was achieved.", title=goal.title)},
    }
    evidence = [{"id": f"{_base(settings)}/goals/{goal.id}", "type": ["Evidence"], "name": goal.title}]
    return _issue(session=session, settings=settings, teacher=teacher, student=student, achievement=achievement,
                  evidence=evidence, links={"goal_id": goal.id}, address=address)


def revocable(*, session: Session, viewer: User, public_id: str) -> Credential:
    """A credential the viewer may revoke, or 404."""
    credential = session.exec(select(Credential).where(Credential.public_id == public_id)).first()
    if credential is None or not may_revoke_credential(viewer=viewer, school_id=credential.school_id,
                                                       issued_by_id=credential.issued_by_id):
        raise not_found()
    return credential


def revoke(*, session: Session, viewer: User, credential: Credential, reason: str, address: str | None = None) -> None:
    """Revoke it: its status bit is set in the next status list anyone fetches; its document stays as issued."""
    if credential.revoked_at is None:
        credential.revoked_at = utcnow()
        credential.revoked_reason = reason.strip()[:REASON_MAX_LENGTH]
        credential.revoked_by_id = viewer.id
        audit.record(session=session, event=AuditEventKind.credential_revoked, actor=viewer,
                     subject=session.get(User, credential.student_id), school_id=credential.school_id,
                     object_description=f"credential {credential.public_id}", address=address,
                     details={"achievement": credential.achievement_name, "reason": credential.revoked_reason})


def rating_location(*, session: Session, rating_id: int) -> tuple[int, int] | None:
    """(student id, competency id) of a rating, for the page to go back to."""
    rating = session.get(CompetencyRating, rating_id)
    return (rating.student_id, rating.competency_id) if rating else None


@dataclass(frozen=True)
class GoalAward:
    """What a goal page offers about a credential: the one awarded, or the button to award one."""

    public_id: str | None
    can_award: bool


def goal_award(*, session: Session, viewer: User, goal: Goal) -> GoalAward | None:
    """For the goal page: its credential (to the student and their teachers), or the award button to a teacher."""
    if goal.status is not GoalStatus.achieved:
        return None
    teacher = may_award_credential(session=session, viewer=viewer, student_id=goal.owner_id)
    if not teacher and viewer.id != goal.owner_id:
        return None
    credential = goal_credential(session=session, goal_id=goal.id)
    if credential is None and not teacher:
        return None
    return GoalAward(public_id=credential.public_id if credential else None, can_award=teacher and credential is None)
