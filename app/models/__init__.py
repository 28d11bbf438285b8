"""All table models, imported here so SQLModel.metadata (and Alembic) sees every table."""

from app.models.api_tokens import ApiToken
from app.models.badges import Credential, IssuerKey
from app.models.assessments import CompetencyRating, RatingArtefact, RatingSource
from app.models.audit import AuditEvent, AuditEventKind
from app.models.badge_assertions import BadgeAssertion, BadgeCheck
from app.models.auth import LoginFailure, SetupLink, UserSession
from app.models.competencies import (
    ClassFramework,
    Competency,
    CompetencyTranslation,
    Framework,
    ProficiencyLevel,
    ProficiencyLevelTranslation,
)
from app.models.evidence import ArtefactCompetency, Artefact, ArtefactKind, ArtefactTag, Audience, MediaKind, Tag
from app.models.feedback import (
    ApprovalStatus,
    Comment,
    CommentKind,
    CommentStatus,
    FeedbackRecipient,
    FeedbackRequest,
    ItemApproval,
    Notification,
    NotificationKind,
    RequestStatus,
)
from app.models.family import DigestFrequency, DigestLog, DigestState, FamilyInvitation
from app.models.jobs import ImportKey, Job, JobStatus
from app.models.goals import CheckIn, CheckInArtefact, CheckInStep, Goal, GoalCompetency, GoalStatus, GoalStep, GoalTag
from app.models.people import ClassRole, EnrolledVia, Enrollment, GuardianLink, Role, School, SchoolClass, SchoolTerm, User
from app.models.reflections import (
    Reflection,
    ReflectionArtefact,
    ReflectionCompetency,
    ReflectionGoal,
    ReflectionStatus,
    ReflectionTag,
)
from app.models.showcases import (
    ConferenceInvite,
    ConferenceResponse,
    ConferenceSlot,
    ResponseSource,
    ShareLink,
    ShareLinkView,
    Showcase,
    ShowcaseItem,
    ShowcaseItemType,
)
from app.models.items import Item, ItemType
from app.models.reactions import ItemReaction, ReactionKind
from app.models import item_rows  # noqa: F401  (gives every new artefact, reflection and goal its items row)

from sqlmodel import SQLModel as _SQLModel

# Ids are never reused: without AUTOINCREMENT, SQLite hands the newest row's id out again once it is deleted, and
# whatever still named that id (a link, a log line, a bookmark) would name someone else's row.
for _table in _SQLModel.metadata.tables.values():
    if [column.name for column in _table.primary_key.columns] == ["id"]:
        _table.dialect_kwargs["sqlite_autoincrement"] = True

__all__ = [
    "ApiToken", "BadgeAssertion", "BadgeCheck", "Credential", "IssuerKey",
    "AuditEvent", "AuditEventKind", "EnrolledVia",
    "ApprovalStatus", "ItemApproval", "Comment", "CommentKind", "CommentStatus", "FeedbackRecipient", "FeedbackRequest", "Notification",
    "NotificationKind", "RequestStatus",
    "Artefact", "ArtefactCompetency", "ArtefactKind", "ArtefactTag", "Audience",
    "CheckIn", "CheckInArtefact", "CheckInStep", "ClassFramework", "ClassRole", "Competency",
    "CompetencyRating", "Enrollment", "Framework", "Goal", "GoalCompetency", "GoalStatus", "GoalStep", "GoalTag",
    "GuardianLink", "ItemType", "LoginFailure", "MediaKind", "ProficiencyLevel", "RatingArtefact",
    "RatingSource", "Reflection", "ReflectionArtefact", "ReflectionCompetency", "ReflectionGoal", "ReflectionTag",
    "ReflectionStatus", "Role", "CompetencyTranslation", "ProficiencyLevelTranslation",
    "DigestFrequency", "DigestLog", "DigestState", "FamilyInvitation", "ImportKey", "Job", "JobStatus",
    "ConferenceInvite", "ConferenceResponse", "ConferenceSlot", "ResponseSource", "ShareLink", "ShareLinkView",
    "ItemReaction", "ReactionKind", "Showcase", "ShowcaseItem", "ShowcaseItemType", "School", "SchoolClass", "SchoolTerm", "SetupLink", "Tag", "Item", "User", "UserSession",
]
