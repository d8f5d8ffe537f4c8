"""The protocol as an html page (or the fragment a Matrix message carries), from the Jinja2
template beside this file; Jinja2 escapes every text people wrote."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup, escape

from minutes import style
from minutes.layout import Block


@cache
def _template() -> Template:
    env = Environment(
        loader=PackageLoader("minutes", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["br"] = _br
    return env.get_template("protocol.html.j2")


def _br(text: str) -> Markup:
    """A text people wrote over several lines keeps its lines, each escaped."""
    return Markup("<br>").join(escape(line.strip()) for line in str(text).splitlines() if line.strip())


def render(blocks: list[Block], title: str, whole: bool = True) -> str:
    # The stylesheet is the bot's own text, written from constants in minutes/style.py: marked
    # safe, or the escaping meant for people's text turns its quotes into &#39; and breaks it.
    return _template().render(blocks=blocks, title=title, css=Markup(style.css()), whole=whole)
