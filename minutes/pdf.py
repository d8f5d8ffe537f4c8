"""The protocol as tagged PDF/A-2b, drawn with fpdf2 from the same blocks and stylesheet as the html page.

fpdf2 is pure Python (with fontTools and Pillow), installs from PyPI alone, and enforces PDF/A
itself: it embeds the fonts, writes the XMP `pdfaid` declaration and an sRGB output intent, and
refuses what PDF/A forbids. The fingerprint of the protocol's content is printed on every page.

A protocol on the kommun's website must be readable by a screen reader (lagen (2018:1937) om
tillgänglighet till digital offentlig service), so the file is tagged: a structure tree under
/StructTreeRoot in the order the page is drawn (Document > H1, H2, P, L > LI > Lbl + LBody,
Table > TR > TH + TD), every text inside marked content that belongs to its element, the running
head and the footer and the rules and grounds as artifacts, /MarkInfo and /Lang sv-SE in the
catalog. fpdf2 (2.8.9) builds a structure tree only for images and links, one level deep and one
page per element; `_Tree` below widens its builder rather than writing PDF objects by hand, so
fpdf2 still writes the tree, the parent tree, the pages' /StructParents and the catalog's
/MarkInfo and /StructTreeRoot.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fpdf import FPDF, ViewerPreferences
from fpdf.output import PDFPage
from fpdf.structure_tree import StructElem, StructureTreeBuilder

from minutes import style
from minutes.layout import Block
from minutes.style import FONT, STYLE, rgb

_MM_PER_PT = 0.3528
_ROW_LINES = 8  # values in one table row: a row is not split across pages
_PAD = 1.2  # mm inside a table cell
_UNSIGNED = "____________________"
_FINGERPRINT = re.compile(r"\b[0-9a-f]{64}\b")


class _ContentRef:
    """A marked-content reference (PDF 32000-1, 14.7.4.2): an element's content on another page
    than its /Pg, where a text ran on to the next page."""

    def __init__(self, page: PDFPage, mcid: int) -> None:
        self.page, self.mcid = page, mcid

    def serialize(self, _security_handler: object = None, _obj_id: object = None) -> str:
        return f"<</Type /MCR /Pg {self.page.ref} /MCID {self.mcid}>>"


class _Tree(StructureTreeBuilder):
    """fpdf2's structure tree builder (private API, fpdf2 2.8.9), nested and across pages.

    fpdf2's own builder hangs every element on the Document and counts a page's MCIDs from those
    elements; here an element hangs on the innermost open one, a page counts its MCIDs itself,
    and an element may own content on several pages. fpdf2's own callers (an image's alt text)
    still get a correct tree through `add_marked_content` and `next_mcid_for_page`.
    """

    def __init__(self, pages: dict[int, PDFPage]) -> None:
        super().__init__()
        self.pages = pages  # fpdf2's: a page's object exists from add_page on, its id from output
        self.open: list[StructElem] = [self.doc_struct_elem]
        self.elements: list[StructElem] = []  # every element but the Document, in reading order
        self.mcids: dict[int, int] = defaultdict(int)  # page number -> MCIDs used on it

    def element(self, kind: str, page: int, title: str | None = None, alt: str | None = None) -> StructElem:
        parent = self.open[-1]
        elem = StructElem(struct_type=f"/{kind}", parent=parent, kids=[], page_number=page, title=title, alt=alt)
        elem.pg = self.pages[page]
        parent.k.append(elem)
        self.elements.append(elem)
        return elem

    def mark(self, elem: StructElem, page: int) -> int:
        """A new piece of marked content on `page` that belongs to `elem`; returns its MCID."""
        mcid = self.mcids[page]
        self.mcids[page] += 1
        spid = self.spid_per_page_number.setdefault(page, len(self.spid_per_page_number))
        self.pages[page].struct_parents = spid
        self.struct_tree_root.parent_tree.nums[spid].append(elem)  # its index is the MCID
        elem.k.append(mcid if elem.page_number() == page else _ContentRef(self.pages[page], mcid))
        return mcid

    def add_marked_content(
        self,
        page_number: int,
        struct_type: str,
        mcid: int | None = None,
        title: str | None = None,
        alt_text: str | None = None,
    ) -> tuple[StructElem, int]:
        elem = self.element(struct_type.lstrip("/"), page_number, title, alt_text)
        if mcid is not None:
            self.mark(elem, page_number)
        return elem, self.spid_per_page_number.setdefault(page_number, len(self.spid_per_page_number))

    def next_mcid_for_page(self, page_number: int) -> int:
        return self.mcids[page_number]

    def __iter__(self) -> Iterator[Any]:
        yield self.struct_tree_root
        yield self.doc_struct_elem
        yield self.struct_tree_root.parent_tree
        yield from self.elements


class _Protocol(FPDF):
    def __init__(self, fingerprint: str, running_head: str) -> None:
        super().__init__(format="A4", unit="mm", enforce_compliance="PDFA_2B")
        self.fingerprint = fingerprint
        self.running_head = running_head
        self.tree = _Tree(self.pages)
        self.struct_builder = self.tree  # where fpdf2 looks for the tree it writes
        self.marking: StructElem | None = None  # the element whose text is being drawn
        self.viewer_preferences = ViewerPreferences(display_doc_title=True)  # the title, not the file name
        for emphasis, name in style.FONT_FILES.items():
            self.add_font(FONT, emphasis, str(style.FONT_DIR / name))
        margin = style.PAGE_MARGIN_MM
        self.set_margins(margin, margin, margin)
        self.set_auto_page_break(True, margin)

    @contextmanager
    def element(self, kind: str) -> Iterator[StructElem]:
        """A structure element that holds others (a list, a table, a row)."""
        elem = self.tree.element(kind, self.page)
        self.tree.open.append(elem)
        yield elem
        self.tree.open.pop()

    @contextmanager
    def text(self, kind: str, height: float) -> Iterator[None]:
        """A structure element whose content is what is drawn inside; `height` of its first line,
        so that a page break comes before it rather than leave it empty on a page."""
        if self.will_page_break(height):
            self.add_page()
        self.marking = self.tree.element(kind, self.page)
        self._begin_marked()
        yield
        self._out("EMC")
        self.marking = None

    def _begin_marked(self) -> None:
        assert self.marking is not None
        mcid = self.tree.mark(self.marking, self.page)
        self._out(f"{self.marking.s} <</MCID {mcid}>> BDC")

    @contextmanager
    def artifact(self, what: str = "") -> Iterator[None]:
        """Drawn, but not content a reader reads out: a rule, a ground, the running head."""
        self._out(f"/Artifact <</Type /Pagination /Subtype /{what}>> BDC" if what else "/Artifact BMC")
        yield
        self._out("EMC")

    def header(self) -> None:
        if self.page > 1:
            with self.artifact("Header"):
                self.set_y(10)
                _use(self, "footer")
                self.cell(0, 4, self.running_head, align="L")
            self.set_xy(self.l_margin, self.t_margin)
        if self.marking is not None:  # a text that runs on from the page before
            self._begin_marked()

    def footer(self) -> None:
        if self.marking is not None:  # marked content ends on its page
            self._out("EMC")
        with self.artifact("Footer"):
            self.set_y(-12)
            _use(self, "footer")
            page = f"sida {self.page_no()} av {{nb}}"  # {nb}: fpdf2 writes the number of pages
            self.cell(0, 4, f"Fingeravtryck (SHA-256): {_grouped(self.fingerprint)}   ·   {page}", align="C")


def _grouped(text: str) -> str:
    """A fingerprint in four groups of sixteen, so that a line breaks between groups, never inside one."""
    return _FINGERPRINT.sub(lambda m: " ".join(m[0][i : i + 16] for i in range(0, 64, 16)), text)


def _use(pdf: FPDF, name: str) -> float:
    """Set the font and colour of a style; returns its line height in mm."""
    s = STYLE[name]
    emphasis = ("B" if s.get("bold") else "") + ("I" if s.get("italic") else "")
    pdf.set_font(FONT, emphasis, float(s["size"]))
    pdf.set_text_color(*rgb(str(s.get("color", STYLE["body"]["color"]))))
    return float(s["size"]) * _MM_PER_PT * float(STYLE["body"]["leading"])


def _space(pdf: FPDF, name: str) -> None:
    pdf.ln(float(STYLE[name].get("space_before", 0)) * _MM_PER_PT)


def _split(pdf: FPDF, width: float, text: str) -> list[str]:
    """A text's lines at `width` in the current font, the fingerprint in groups. Measured before
    its marked content opens: fpdf2's dry run simulates the page breaks, header and footer too."""
    text = _grouped(text)
    if "\n" not in text and pdf.get_string_width(text) < width:  # most lines fit: no line breaking
        return [text]
    return pdf.multi_cell(width, 1, text, dry_run=True, output="LINES")


def _draw(pdf: FPDF, width: float, height: float, lines: list[str], fill: bool = False) -> None:
    """Lines from the current position down, each drawn by itself and ending in a space where the
    text goes on, so that a screen reader and a copy read "för distanssammanträde", not
    "fördistanssammanträde" (fpdf2's multi_cell drops the space it breaks at). A page break comes
    between lines."""
    for n, line in enumerate(lines, 1):
        pdf.cell(width, height, line if n == len(lines) else f"{line} ", fill=fill, new_x="LEFT", new_y="NEXT")


def _text(pdf: _Protocol, name: str, text: str, kind: str = "P", indent: float = 0, ground: str = "") -> None:
    height = _use(pdf, name)
    if ground:
        pdf.set_fill_color(*rgb(ground))
    lines = _split(pdf, pdf.epw - indent, text)
    with pdf.text(kind, height):
        pdf.set_x(pdf.l_margin + indent)
        _draw(pdf, pdf.epw - indent, height, lines, fill=bool(ground))
    pdf.set_x(pdf.l_margin)


def _rows(pdf: _Protocol, title: str, lines: list[str], name: str) -> None:
    if title:
        _space(pdf, f"{name}_title")
        _text(pdf, f"{name}_title", title)
    height = _use(pdf, name)
    width = pdf.epw - 4
    with pdf.element("L"):
        for line in lines or ["–"]:
            split = _split(pdf, width, line)
            with pdf.element("LI"):
                with pdf.text("Lbl", height):
                    pdf.set_x(pdf.l_margin)
                    pdf.cell(4, height, "•")
                with pdf.text("LBody", height):
                    _draw(pdf, width, height, split)
                pdf.set_x(pdf.l_margin)


def _framed(pdf: _Protocol, name: str, lead: str, lines: list[str]) -> None:
    """A block set apart: a coloured ground and a rule on its left."""
    pdf.ln(1.5)
    top = pdf.get_y()
    ground = str(STYLE[name]["background"])
    with pdf.element("Div"):
        _text(pdf, f"{name}_lead" if f"{name}_lead" in STYLE else name, lead, indent=2, ground=ground)
        for line in lines:
            _text(pdf, name, line, indent=2, ground=ground)
    if pdf.get_y() > top:  # the rule, where the block did not cross a page
        with pdf.artifact():
            pdf.set_draw_color(*rgb(str(STYLE[name]["rule"])))
            pdf.set_line_width(0.8)
            pdf.line(pdf.l_margin + 0.4, top, pdf.l_margin + 0.4, pdf.get_y())
    pdf.ln(1.5)


def _table(pdf: _Protocol, rows: list[tuple[list[str], ...]], widths: tuple[int, ...], label: str, value: str) -> None:
    """A table whose first column labels its row (TH) and the rest are its cells (TD), each value in
    a cell a P of its own (one person a line), with a ground under the label and a rule under each
    row. Drawn here rather than with fpdf2's `table`, which draws a row's cells in one go and so
    cannot tag them one by one."""
    line = float(STYLE[value]["size"]) * _MM_PER_PT * 1.4
    cols = [pdf.epw * w / sum(widths) for w in widths]
    with pdf.element("Table"):
        for cells in rows:
            split = []
            for i, (w, values) in enumerate(zip(cols, cells, strict=True)):
                _use(pdf, label if i == 0 else value)
                split.append([_split(pdf, w - 2 * _PAD, v) for v in values])
            height = 2 * _PAD + line * max(sum(map(len, values)) for values in split)
            if pdf.will_page_break(height):
                pdf.add_page()
            top, page = pdf.get_y(), pdf.page
            with pdf.artifact():
                pdf.set_fill_color(*rgb(str(STYLE[label]["background"])))
                pdf.rect(pdf.l_margin, top, cols[0], min(height, pdf.page_break_trigger - top), style="F")
            x = pdf.l_margin
            with pdf.element("TR"):
                for i, (w, values) in enumerate(zip(cols, split, strict=True)):
                    _use(pdf, label if i == 0 else value)
                    pdf.set_xy(x + _PAD, top + _PAD)
                    with pdf.element("TH" if i == 0 else "TD"):
                        for v in values:
                            with pdf.text("P", line):
                                _draw(pdf, w - 2 * _PAD, line, v)
                    x += w
            if pdf.page == page:
                pdf.set_y(top + height)
            else:  # a row taller than a page (a long text people wrote) ran on to the next: its end
                pdf.set_x(pdf.l_margin)
            with pdf.artifact():
                pdf.set_draw_color(0, 0, 0)
                pdf.set_line_width(0.2)
                pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.ln(2)


def render(blocks: list[Block], doc: dict[str, Any], title: str, fingerprint: str) -> bytes:
    """`fingerprint`: of what this file shows, printed on every page (the protocol's, or the
    paragraph's for a protokollsutdrag)."""
    kind = next(head for k, head, _ in blocks if k == "title")
    pdf = _Protocol(fingerprint, " · ".join(x for x in (doc["organisation"], doc["organ"], doc["datum"], kind) if x))
    pdf.set_title(title)
    pdf.set_author(doc["organ"])
    pdf.set_creator("distansbot")
    pdf.set_lang("sv-SE")
    pdf.add_page()
    for kind, head, lines in blocks:
        if kind == "title":
            _text(pdf, "title", head, "H1")
            _text(pdf, "subtitle", " · ".join(lines))
            pdf.ln(2)
        elif kind == "head":
            # A table row cannot cross a page: a long list (101 beslutande) goes in several rows.
            rows = [
                ([label if i == 0 else f"{label} (forts.)"], values[i : i + _ROW_LINES])
                for label, values in lines
                for i in range(0, len(values), _ROW_LINES)
            ]
            _table(pdf, rows, (32, 68), "head_label", "head_value")
        elif kind == "appendix":  # a bilaga begins on a page of its own
            pdf.add_page()
            _text(pdf, "h2", head, "H2")
        elif kind in ("h2", "paragraph"):
            _space(pdf, kind)
            _text(pdf, kind, head, "H2")
            if kind == "paragraph":
                with pdf.artifact():
                    pdf.set_draw_color(*rgb(str(STYLE["paragraph"]["rule"])))
                    pdf.set_line_width(0.3)
                    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
                pdf.ln(1)
                for dnr in lines:
                    _text(pdf, "dnr", dnr)
        elif kind == "note":
            _text(pdf, "note", head)
        elif kind in ("decision", "box"):
            _framed(pdf, kind, head, lines)
        elif kind == "signatures":
            rows = [([role], [name] if name else [], [signed or _UNSIGNED]) for role, name, signed in lines]
            _table(pdf, rows, (20, 40, 40), "head_label", "list")
        elif kind == "table":  # the first row heads the columns
            _space(pdf, "list_title")
            _text(pdf, "list_title", head)
            rows = [tuple([cell] if cell else [] for cell in row) for row in lines]
            _table(pdf, rows, (40, *(10 for _ in lines[0][1:])), "head_label", "list")
        elif kind == "p":
            pdf.ln(1.2)
            _text(pdf, "list", head)
        else:  # list, small
            _rows(pdf, head, lines, kind)
    return bytes(pdf.output())
