"""The protocol as PDF/A-2b, drawn with fpdf2 from the same blocks and stylesheet as the html page.

fpdf2 is pure Python (with fontTools and Pillow), installs from PyPI alone, and enforces PDF/A
itself: it embeds the fonts, writes the XMP `pdfaid` declaration and an sRGB output intent, and
refuses what PDF/A forbids. The fingerprint of the protocol's content is printed on every page.
"""

from __future__ import annotations

from typing import Any

from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode

from minutes import style
from minutes.layout import Block
from minutes.style import FONT, STYLE, rgb

_MM_PER_PT = 0.3528
_ROW_LINES = 8  # lines in one table row: a row cannot cross a page, and long cells lay out slowly


class _Protocol(FPDF):
    def __init__(self, fingerprint: str) -> None:
        super().__init__(format="A4", unit="mm", enforce_compliance="PDFA_2B")
        self.fingerprint = fingerprint
        for emphasis, name in style.FONT_FILES.items():
            self.add_font(FONT, emphasis, str(style.FONT_DIR / name))
        margin = style.PAGE_MARGIN_MM
        self.set_margins(margin, margin, margin)
        self.set_auto_page_break(True, margin)

    def footer(self) -> None:
        self.set_y(-12)
        _use(self, "footer")
        self.cell(0, 4, f"Fingeravtryck (SHA-256): {self.fingerprint}   ·   sida {self.page_no()} av {{nb}}", align="C")


def _use(pdf: FPDF, name: str) -> float:
    """Set the font and colour of a style; returns its line height in mm."""
    s = STYLE[name]
    emphasis = ("B" if s.get("bold") else "") + ("I" if s.get("italic") else "")
    pdf.set_font(FONT, emphasis, float(s["size"]))
    pdf.set_text_color(*rgb(str(s.get("color", STYLE["body"]["color"]))))
    return float(s["size"]) * _MM_PER_PT * float(STYLE["body"]["leading"])


def _space(pdf: FPDF, name: str) -> None:
    pdf.ln(float(STYLE[name].get("space_before", 0)) * _MM_PER_PT)


def _text(pdf: FPDF, name: str, text: str, indent: float = 0, ground: str = "") -> None:
    height = _use(pdf, name)
    if ground:
        pdf.set_fill_color(*rgb(ground))
    pdf.set_x(pdf.l_margin + indent)
    pdf.multi_cell(pdf.epw - indent, height, text, fill=bool(ground), align="L", new_x="LMARGIN", new_y="NEXT")


def _rows(pdf: FPDF, title: str, lines: list[str], name: str) -> None:
    if title:
        _space(pdf, f"{name}_title")
        _text(pdf, f"{name}_title", title)
    height = _use(pdf, name)
    width = pdf.epw - 4
    for line in lines or ["–"]:
        pdf.set_x(pdf.l_margin)
        pdf.cell(4, height, "•")
        if "\n" not in line and pdf.get_string_width(line) < width:  # most lines: no line breaking needed
            pdf.cell(width, height, line, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.multi_cell(width, height, line, align="L", new_x="LMARGIN", new_y="NEXT")


def _framed(pdf: FPDF, name: str, lead: str, lines: list[str]) -> None:
    """A block set apart: a coloured ground and a rule on its left."""
    pdf.ln(1.5)
    top = pdf.get_y()
    ground = str(STYLE[name]["background"])
    _text(pdf, f"{name}_lead" if f"{name}_lead" in STYLE else name, lead, 2, ground)
    for line in lines:
        _text(pdf, name, line, 2, ground)
    if pdf.get_y() > top:  # the rule, where the block did not cross a page
        pdf.set_draw_color(*rgb(str(STYLE[name]["rule"])))
        pdf.set_line_width(0.8)
        pdf.line(pdf.l_margin + 0.4, top, pdf.l_margin + 0.4, pdf.get_y())
    pdf.ln(1.5)


def _table(pdf: FPDF, rows: list[tuple[str, ...]], widths: tuple[int, ...], label: str, value: str) -> None:
    _use(pdf, value)
    head = STYLE[label]
    label_face = FontFace(
        family=FONT,
        emphasis="BOLD",
        size_pt=float(head["size"]),
        color=rgb(str(head["color"])),
        fill_color=rgb(str(head["background"])),
    )
    with pdf.table(
        col_widths=widths,
        first_row_as_headings=False,
        line_height=float(STYLE[value]["size"]) * _MM_PER_PT * 1.4,
        padding=1.2,
        cell_fill_mode=TableCellFillMode.NONE,
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        for cells in rows:
            row = table.row()
            row.cell(cells[0], style=label_face)
            for cell in cells[1:]:
                row.cell(cell)
    pdf.ln(2)


def render(blocks: list[Block], doc: dict[str, Any], title: str, fingerprint: str) -> bytes:
    """`fingerprint`: of what this file shows, printed on every page (the protocol's, or the
    paragraph's for a protokollsutdrag)."""
    pdf = _Protocol(fingerprint)
    pdf.set_title(title)
    pdf.set_author(doc["organ"])
    pdf.set_creator("distansbot")
    pdf.set_lang("sv-SE")
    pdf.add_page()
    for kind, head, lines in blocks:
        if kind == "title":
            _text(pdf, "title", "Protokoll" if not lines else lines[0])
            _text(pdf, "subtitle", head)
            pdf.ln(2)
        elif kind == "head":
            # A table row cannot cross a page: a long list (101 beslutande) goes in several rows.
            rows = [
                (label if i == 0 else f"{label} (forts.)", "\n".join(values[i : i + _ROW_LINES]))
                for label, values in lines
                for i in range(0, len(values), _ROW_LINES)
            ]
            _table(pdf, rows, (32, 68), "head_label", "head_value")
        elif kind in ("h2", "paragraph"):
            _space(pdf, kind)
            _text(pdf, kind, head)
            if kind == "paragraph":
                pdf.set_draw_color(*rgb(str(STYLE["paragraph"]["rule"])))
                pdf.set_line_width(0.3)
                pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
                pdf.ln(1)
                for dnr in lines:
                    _text(pdf, "dnr", dnr)
        elif kind == "note":
            _text(pdf, "note", head)
        elif kind == "decision":
            _framed(pdf, "decision", head, lines)
        elif kind == "box":
            _framed(pdf, "box", head, lines)
        elif kind == "signatures":
            rows = [(role, name, signed or "____________________") for role, name, signed in lines]
            _table(pdf, rows, (20, 40, 40), "head_label", "list")
        elif kind == "p":
            _text(pdf, "list", head)
        else:  # list, small
            _rows(pdf, head, lines, kind)
    return bytes(pdf.output())
