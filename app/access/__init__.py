"""Who may see or change what: the one place that decides.

- `relationships`: who teaches whom, whose guardian is whose, classmates through which class;
- `rules`: can_see and the audiences a viewer may see of a student's items (visible_among_owners: for many items of
  many students at once); recordings listed only with what they belong to;
- `loaders`: one row for one viewer (load_visible, load_own), NotFound otherwise;
- `errors`: NotFound / NotAllowed, raised by services and turned into 404 / 403 by the web layer only.
"""

from app.access.errors import NotAllowed, NotFound, not_found
from app.access.loaders import can_change, load, load_own, load_visible, valid_id
from app.access.rules import (
    ALL_AUDIENCES,
    audiences_among,
    can_see,
    attached_recordings_among,
    family_approval_required,
    needing_family_approval_among,
    not_an_attached_recording,
    student_visible_to,
    visible_among,
    visible_among_owners,
    visible_audiences,
)

__all__ = [
    "ALL_AUDIENCES", "NotAllowed", "NotFound", "attached_recordings_among", "audiences_among", "can_change", "can_see",
    "family_approval_required", "load", "load_own", "load_visible", "needing_family_approval_among",
    "not_an_attached_recording", "not_found",
    "student_visible_to", "valid_id", "visible_among", "visible_among_owners", "visible_audiences",
]
