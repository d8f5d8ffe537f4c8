"""The protocol's one stylesheet: the html page's CSS is written from it and the PDF is drawn
with it, so the two look alike. Sizes in points, colours as #rrggbb."""

from __future__ import annotations

from importlib.resources import files

# The font: Lato (SIL Open Font License), shipped on PyPI as font-lato. A PDF/A file embeds its
# fonts, and the page and the PDF use the same one.
FONT_DIR = files("font_lato") / "files"
FONT = "Lato"
FONT_FILES = {"": "Lato-Regular.ttf", "B": "Lato-Bold.ttf", "I": "Lato-Italic.ttf", "BI": "Lato-BoldItalic.ttf"}

STYLE: dict[str, dict[str, str | float | bool]] = {
    "body": {"size": 10.5, "color": "#1a1a1a", "leading": 1.35},
    "title": {"size": 20, "bold": True, "color": "#17324d"},
    "subtitle": {"size": 13, "color": "#17324d"},
    "head_label": {"size": 9, "bold": True, "color": "#17324d", "background": "#e8eef5"},
    "head_value": {"size": 9.5},
    "h2": {"size": 12.5, "bold": True, "color": "#17324d", "space_before": 10},
    "paragraph": {"size": 13, "bold": True, "color": "#17324d", "space_before": 14, "rule": "#17324d"},
    "dnr": {"size": 9, "color": "#4d5b6a"},
    "note": {"size": 9.5, "italic": True, "color": "#7a2e0e"},
    "decision_lead": {"size": 11, "bold": True},
    "decision": {"size": 11, "background": "#f3f6fa", "rule": "#2b4c7e"},
    "list_title": {"size": 9.5, "bold": True, "space_before": 4},
    "list": {"size": 9.5},
    "small_title": {"size": 8, "bold": True, "color": "#4d5b6a", "space_before": 4},
    "small": {"size": 7.5, "color": "#4d5b6a"},
    "box": {"size": 9.5, "background": "#f7f7f2", "rule": "#6b6b4e"},
    "footer": {"size": 7, "color": "#4d5b6a"},
}

PAGE_MARGIN_MM = 20


def css() -> str:
    """The stylesheet as CSS for the html page (classes named as the STYLE keys)."""
    rules = [
        f"@font-face {{ font-family: {FONT}; src: local('{FONT}'); }}",
        f"body {{ font-family: {FONT}, 'Helvetica Neue', Arial, sans-serif; max-width: 46em; margin: 2em auto; "
        f"padding: 0 1em; }}",
        "table.head { border-collapse: collapse; width: 100%; margin: 1em 0; }",
        "table.head td { border: 1px solid #c9d3de; padding: 0.3em 0.5em; vertical-align: top; }",
        "table.head td.head_label { width: 30%; }",
        "table.signatures { border-collapse: collapse; width: 100%; margin-top: 1em; }",
        "table.signatures td, table.signatures th { border-bottom: 1px solid #c9d3de; padding: 0.5em; "
        "text-align: left; }",
        "table.votes { border-collapse: collapse; margin: 0.3em 0 0.8em 0; }",
        "table.votes td, table.votes th { border-bottom: 1px solid #c9d3de; padding: 0.2em 0.8em; text-align: left; }",
        "table.votes td { text-align: center; }",
        "h2.appendix { break-before: page; }",
        "ul { margin: 0.2em 0 0.5em 0; padding-left: 1.2em; }",
        ".decision { padding: 0.5em 0.8em; margin: 0.4em 0; }",
        ".box { padding: 0.5em 0.8em; margin: 1em 0; }",
        ".paragraph { padding-bottom: 0.15em; }",
    ]
    for name, style in STYLE.items():
        props = [f"font-size: {style['size']}pt"]
        if style.get("bold"):
            props.append("font-weight: bold")
        if style.get("italic"):
            props.append("font-style: italic")
        if "color" in style:
            props.append(f"color: {style['color']}")
        if "background" in style:
            props.append(f"background: {style['background']}")
        if "rule" in style:
            side = "bottom" if name == "paragraph" else "left"
            props.append(f"border-{side}: 2px solid {style['rule']}")
        if "space_before" in style:
            props.append(f"margin-top: {style['space_before']}pt")
        if "leading" in style:
            props.append(f"line-height: {style['leading']}")
        selector = "body" if name == "body" else f".{name}"
        rules.append(f"{selector} {{ {'; '.join(props)}; }}")
    return "\n".join(rules)


def rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)
