"""Topics: named one per line (a topic may contain commas), sorted naturally, and an optional list of
suggested topics an administrator keeps (offered as checkboxes in every webinar form)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from .database import writing
from .extensions import db
from .models import Tag, natural_key
from .text import single_line, slugify
from .validators import split_lines

MAX_TOPICS = 20
MAX_SUGGESTED = 100
NAME_LENGTH = 80

# The 17 Sustainable Development Goals with the short names the United Nations use in each language.
SDGS: tuple[tuple[str, str, str], ...] = (
    ("SDG 1 No poverty", "ODS 1 Fin de la pobreza", "ODS 1 Erradicação da pobreza"),
    ("SDG 2 Zero hunger", "ODS 2 Hambre cero", "ODS 2 Fome zero e agricultura sustentável"),
    ("SDG 3 Good health and well-being", "ODS 3 Salud y bienestar", "ODS 3 Saúde e bem-estar"),
    ("SDG 4 Quality education", "ODS 4 Educación de calidad", "ODS 4 Educação de qualidade"),
    ("SDG 5 Gender equality", "ODS 5 Igualdad de género", "ODS 5 Igualdade de gênero"),
    (
        "SDG 6 Clean water and sanitation",
        "ODS 6 Agua limpia y saneamiento",
        "ODS 6 Água potável e saneamento",
    ),
    (
        "SDG 7 Affordable and clean energy",
        "ODS 7 Energía asequible y no contaminante",
        "ODS 7 Energia limpa e acessível",
    ),
    (
        "SDG 8 Decent work and economic growth",
        "ODS 8 Trabajo decente y crecimiento económico",
        "ODS 8 Trabalho decente e crescimento econômico",
    ),
    (
        "SDG 9 Industry, innovation and infrastructure",
        "ODS 9 Industria, innovación e infraestructura",
        "ODS 9 Indústria, inovação e infraestrutura",
    ),
    (
        "SDG 10 Reduced inequalities",
        "ODS 10 Reducción de las desigualdades",
        "ODS 10 Redução das desigualdades",
    ),
    (
        "SDG 11 Sustainable cities and communities",
        "ODS 11 Ciudades y comunidades sostenibles",
        "ODS 11 Cidades e comunidades sustentáveis",
    ),
    (
        "SDG 12 Responsible consumption and production",
        "ODS 12 Producción y consumo responsables",
        "ODS 12 Consumo e produção responsáveis",
    ),
    ("SDG 13 Climate action", "ODS 13 Acción por el clima", "ODS 13 Ação contra a mudança global do clima"),
    ("SDG 14 Life below water", "ODS 14 Vida submarina", "ODS 14 Vida na água"),
    ("SDG 15 Life on land", "ODS 15 Vida de ecosistemas terrestres", "ODS 15 Vida terrestre"),
    (
        "SDG 16 Peace, justice and strong institutions",
        "ODS 16 Paz, justicia e instituciones sólidas",
        "ODS 16 Paz, justiça e instituições eficazes",
    ),
    (
        "SDG 17 Partnerships for the goals",
        "ODS 17 Alianzas para lograr los objetivos",
        "ODS 17 Parcerias e meios de implementação",
    ),
)


class TopicListError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse(text: str) -> list[str]:
    """The topics typed one per line; commas stay inside a topic."""
    return [single_line(line)[:NAME_LENGTH] for line in split_lines(text)]


def sort_naturally(tags: list[Tag]) -> list[Tag]:
    return sorted(tags, key=lambda tag: natural_key(tag.name))


def label(tag: Tag) -> str:
    """The topic's name in the reader's language."""
    return tag.label(str(get_locale() or "en"))


def suggested() -> list[Tag]:
    """The administrator's list, naturally sorted (SDG 9 before SDG 11)."""
    return sort_naturally(list(db.session.scalars(select(Tag).where(Tag.suggested.is_(True)))))


@dataclass(frozen=True)
class SuggestedTopic:
    name: str
    name_es: str = ""
    name_pt: str = ""


def parse_suggested(text: str) -> list[SuggestedTopic]:
    """Lines of "English | Español | Português" (the translations are optional)."""
    topics: list[SuggestedTopic] = []
    for line in split_lines(text):
        parts = [single_line(part) for part in line.split("|")]
        if len(parts) > 3 or not parts[0] or any(len(part) > NAME_LENGTH for part in parts):
            raise TopicListError(
                str(
                    _l(
                        "Each line is a topic in English, optionally followed by | Spanish | Portuguese, "
                        "each at most %(count)s characters: %(line)s",
                        count=NAME_LENGTH,
                        line=line[:120],
                    )
                )
            )
        parts += [""] * (3 - len(parts))
        topics.append(SuggestedTopic(*parts))
    if len(topics) > MAX_SUGGESTED:
        raise TopicListError(str(_l("At most %(count)s suggested topics.", count=MAX_SUGGESTED)))
    return topics


def as_text(tags: list[Tag]) -> str:
    return "\n".join(" | ".join(part for part in (t.name, t.name_es, t.name_pt) if part) for t in tags)


def set_suggested(topics: list[SuggestedTopic]) -> None:
    """Make ``topics`` the suggested list; topics taken off it stay on the webinars that have them.
    Commits."""
    with writing():
        db.session.execute(update(Tag).where(Tag.suggested.is_(True)).values(suggested=False))
        by_slug: dict[str, SuggestedTopic] = {}
        for topic in topics:
            by_slug.setdefault(slugify(topic.name), topic)
        existing = {tag.slug: tag for tag in db.session.scalars(select(Tag).where(Tag.slug.in_(by_slug)))}
        for slug, topic in by_slug.items():
            tag = existing.get(slug) or Tag(slug=slug)
            tag.name, tag.name_es, tag.name_pt = topic.name, topic.name_es, topic.name_pt
            tag.suggested = True
            db.session.add(tag)
        db.session.commit()


def sdg_list() -> list[SuggestedTopic]:
    return [SuggestedTopic(*names) for names in SDGS]
