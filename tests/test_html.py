"""The html protocol as a browser reads it: the stylesheet, the bot's own text, is CSS; what people
wrote stays text wherever it stands."""

from __future__ import annotations

import re

from testing.driver import CHAIR, KALLA, M3, Driver

HOSTILE = "</style><script>alert(1)</script><style>"


def _page() -> str:
    d = Driver()
    d.ok(CHAIR, KALLA)
    d.ok(CHAIR, "!öppna")
    d.until_called()
    for user in ("@anna:ex.se", "@bo:ex.se", M3, "@david:ex.se", "@eva:ex.se"):
        d.ok(user, "!närvarande")
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, f"!yrka {HOSTILE}")
    return d.protocol("html")


def test_kl_6_35_the_html_stylesheet_is_css_and_a_hostile_motion_stays_text():
    page = _page()
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(styles) == 1  # the motion opened and closed no style element of its own
    css = styles[0]
    assert "src: local('Lato')" in css and "'Helvetica Neue'" in css
    assert "&#39;" not in css and "&amp;" not in css and "&lt;" not in css
    assert "<script>" not in page
    assert "&lt;/style&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;style&gt;" in page
