"""A real, public default framework: British Columbia's Core Competencies, with a four-level scale.

The structure (three competencies, six sub-competencies) follows the BC curriculum; the descriptions
are Folio's own short, student-friendly "I can..." summaries, not the province's text. They are data
(stored in the school's database, editable by its admin), so they are not run through gettext.
"""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import Competency, Framework, ProficiencyLevel, School

BC_FRAMEWORK_NAME = "BC Core Competencies"
BC_FRAMEWORK_DESCRIPTION = (
    "British Columbia's Core Competencies: the intellectual, personal and social skills every learner "
    "builds in every subject, at school and beyond. Described here in Folio's own words."
)

# (code, name, parent code, description), parents before their children.
BC_COMPETENCIES: tuple[tuple[str, str, str | None, str], ...] = (
    ("COM", "Communication", None,
     "I share ideas and information, listen to others, and work with them towards shared goals."),
    ("COM.1", "Communicating", "COM",
     "I can listen carefully, ask good questions, share my ideas clearly, and explain what I have learned "
     "in a way that suits my audience."),
    ("COM.2", "Collaborating", "COM",
     "I can work with others towards a shared goal: I do my part, build on other people's ideas, and help "
     "sort out disagreements."),
    ("THK", "Thinking", None,
     "I come up with new ideas, and I think carefully about ideas, evidence and my own learning."),
    ("THK.1", "Creative thinking", "THK",
     "I can come up with new ideas, play with them, and develop them into something that matters to me "
     "or to others."),
    ("THK.2", "Critical and reflective thinking", "THK",
     "I can question and analyse ideas and evidence, make judgements using criteria, and look back on my "
     "thinking and learning to improve it."),
    ("PS", "Personal and Social", None,
     "I understand who I am, look after myself, and take part in my communities and the world around me."),
    ("PS.1", "Positive personal and cultural identity", "PS",
     "I know and value who I am: my strengths, my family, my cultures, and the things that matter to me."),
    ("PS.2", "Personal awareness and responsibility", "PS",
     "I can set goals, manage my feelings and stress, make healthy choices, and keep going when things "
     "are hard."),
    ("PS.3", "Social awareness and responsibility", "PS",
     "I can build good relationships, value diversity, solve problems peacefully, and care for my "
     "community and the environment."),
)

# (label, descriptor), from the first step of the scale to the last.
BC_LEVELS: tuple[tuple[str, str], ...] = (
    ("Emerging", "I am just starting to show this. I can do it with a lot of help."),
    ("Developing", "I show this sometimes, with some help. I am getting more confident."),
    ("Proficient", "I show this often and on my own, in situations I know."),
    ("Extending", "I show this confidently, in new and challenging situations, and I can help others with it."),
)


def find_bc_framework(*, session: Session, school: School) -> Framework | None:
    """The school's copy of the BC framework, if it has one (found by its name)."""
    return session.exec(
        select(Framework).where(Framework.school_id == school.id, Framework.name == BC_FRAMEWORK_NAME)
    ).first()


def seed_bc_framework(*, session: Session, school: School) -> Framework:
    """Give `school` the BC Core Competencies framework, once: when it already has it, it is returned as it is
    (an admin's edits are never overwritten). Flushes; the caller commits."""
    existing = find_bc_framework(session=session, school=school)
    if existing is not None:
        return existing
    framework = Framework(school_id=school.id, name=BC_FRAMEWORK_NAME, description=BC_FRAMEWORK_DESCRIPTION)
    session.add(framework)
    session.flush()
    for position, (label, descriptor) in enumerate(BC_LEVELS, start=1):
        session.add(ProficiencyLevel(framework_id=framework.id, position=position, label=label, descriptor=descriptor))
    by_code: dict[str, Competency] = {}
    positions: dict[str | None, int] = {}
    for code, name, parent_code, description in BC_COMPETENCIES:
        position = positions.get(parent_code, 0)
        positions[parent_code] = position + 1
        competency = Competency(
            framework_id=framework.id, code=code, name=name, description=description, position=position,
            parent_id=by_code[parent_code].id if parent_code else None,
        )
        session.add(competency)
        session.flush()
        by_code[code] = competency
    return framework
