"""What is rendered from a meeting's events: the journal, the protocol (md, html, json) and the
kallelse's calendar file, and the words of the rules' replies and refusals (`replies`, which
registers them with the rules when `minutes` is imported). Words live here and in
`rules/words.py`; events carry data only."""

from minutes import replies  # noqa: F401  (registers the words of the rules' replies)
