"""What is rendered from a meeting's events: the journal, the protocol (md, html, json) and the
kallelse's calendar file. Words live here and in `rules/words.py`; events carry data only."""
