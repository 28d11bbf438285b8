"""A real, public default framework: British Columbia's Core Competencies, with a four-level scale.

The structure (three competencies, six sub-competencies) follows the BC curriculum; the descriptions
are Folio's own short, student-friendly "I can..." summaries, not the province's text. They are data
(stored in the school's database, editable by its admin), so they are not run through gettext: their Spanish and
French come as translations of that data (competency_translations, proficiency_level_translations).
"""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import (
    Competency,
    CompetencyTranslation,
    Framework,
    ProficiencyLevel,
    ProficiencyLevelTranslation,
    School,
)

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
        level = ProficiencyLevel(framework_id=framework.id, position=position, label=label, descriptor=descriptor)
        session.add(level)
        session.flush()
        for locale, levels in BC_LEVEL_TRANSLATIONS.items():
            words = levels[position - 1]
            session.add(ProficiencyLevelTranslation(level_id=level.id, locale=locale, label=words[0], descriptor=words[1]))
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
        for locale, words in BC_TRANSLATIONS.items():
            session.add(CompetencyTranslation(competency_id=competency.id, locale=locale, name=words[code][0],
                                              description=words[code][1]))
    return framework


# The same words in Spanish and French, by code (competencies) and by position (levels): what a student or a
# family reading Folio in those languages sees. The French follows the words BC's own French documents use.
BC_TRANSLATIONS: dict[str, dict[str, tuple[str, str]]] = {
    "es": {
        "COM": ("Comunicación",
                "Comparto ideas e información, escucho a los demás y trabajo con ellos hacia metas comunes."),
        "COM.1": ("Comunicar",
                  "Sé escuchar con atención, hacer buenas preguntas, expresar mis ideas con claridad y explicar lo "
                  "que he aprendido de una forma adecuada para quien me escucha."),
        "COM.2": ("Colaborar",
                  "Sé trabajar con otros hacia una meta común: hago mi parte, aprovecho las ideas de los demás y "
                  "ayudo a resolver los desacuerdos."),
        "THK": ("Pensamiento",
                "Se me ocurren ideas nuevas y pienso con cuidado sobre las ideas, las pruebas y mi propio aprendizaje."),
        "THK.1": ("Pensamiento creativo",
                  "Se me ocurren ideas nuevas, juego con ellas y las convierto en algo que me importa a mí o a los "
                  "demás."),
        "THK.2": ("Pensamiento crítico y reflexivo",
                  "Sé cuestionar y analizar ideas y pruebas, juzgar según unos criterios y repasar lo que he pensado "
                  "y aprendido para mejorarlo."),
        "PS": ("Competencia personal y social",
               "Entiendo quién soy, me cuido y participo en mis comunidades y en el mundo que me rodea."),
        "PS.1": ("Identidad personal y cultural positiva",
                 "Conozco y valoro quién soy: mis fortalezas, mi familia, mis culturas y lo que me importa."),
        "PS.2": ("Conciencia y responsabilidad personal",
                 "Sé ponerme metas, manejar mis emociones y el estrés, tomar decisiones saludables y seguir adelante "
                 "cuando las cosas se ponen difíciles."),
        "PS.3": ("Conciencia y responsabilidad social",
                 "Sé construir buenas relaciones, valorar la diversidad, resolver los problemas de forma pacífica y "
                 "cuidar de mi comunidad y del medio ambiente."),
    },
    "fr": {
        "COM": ("Communication",
                "Je partage des idées et de l'information, j'écoute les autres et je travaille avec eux vers des buts "
                "communs."),
        "COM.1": ("Communiquer",
                  "Je sais écouter attentivement, poser de bonnes questions, exprimer mes idées clairement et "
                  "expliquer ce que j'ai appris d'une façon adaptée à mon public."),
        "COM.2": ("Collaborer",
                  "Je sais travailler avec d'autres vers un but commun : je fais ma part, je m'appuie sur les idées "
                  "des autres et j'aide à régler les désaccords."),
        "THK": ("Pensée",
                "J'ai des idées nouvelles et je réfléchis avec soin aux idées, aux preuves et à mes propres "
                "apprentissages."),
        "THK.1": ("Pensée créatrice",
                  "J'ai des idées nouvelles, je les explore et je les transforme en quelque chose qui compte pour moi "
                  "ou pour les autres."),
        "THK.2": ("Pensée critique et réflexive",
                  "Je sais questionner et analyser des idées et des preuves, porter des jugements à partir de "
                  "critères et revenir sur ma réflexion et mes apprentissages pour les améliorer."),
        "PS": ("Compétence personnelle et sociale",
               "Je comprends qui je suis, je prends soin de moi et je participe à mes communautés et au monde qui "
               "m'entoure."),
        "PS.1": ("Identité personnelle et culturelle positive",
                 "Je connais et j'apprécie qui je suis : mes forces, ma famille, mes cultures et ce qui compte pour "
                 "moi."),
        "PS.2": ("Conscience et responsabilité personnelles",
                 "Je sais me fixer des objectifs, gérer mes émotions et mon stress, faire des choix sains et "
                 "persévérer quand c'est difficile."),
        "PS.3": ("Conscience et responsabilité sociales",
                 "Je sais créer de bonnes relations, valoriser la diversité, régler les problèmes pacifiquement et "
                 "prendre soin de ma communauté et de l'environnement."),
    },
}
BC_LEVEL_TRANSLATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "es": (
        ("Inicial", "Estoy empezando a demostrarlo. Puedo hacerlo con mucha ayuda."),
        ("En desarrollo", "Lo demuestro a veces, con algo de ayuda. Cada vez tengo más confianza."),
        ("Competente", "Lo demuestro a menudo y por mi cuenta, en situaciones que conozco."),
        ("Avanzado", "Lo demuestro con seguridad, en situaciones nuevas y difíciles, y puedo ayudar a otros."),
    ),
    "fr": (
        ("Émergent", "Je commence tout juste à le montrer. J'y arrive avec beaucoup d'aide."),
        ("En voie d'acquisition", "Je le montre parfois, avec un peu d'aide. J'ai de plus en plus confiance en moi."),
        ("Acquis", "Je le montre souvent et de façon autonome, dans des situations que je connais."),
        ("Approfondi", "Je le montre avec assurance, dans des situations nouvelles et exigeantes, et je peux aider "
                       "les autres."),
    ),
}
