"""What the video call's own server shows of sound and picture: the media port.

`record` holds the neutral records the rest of the bot reads (a person's camera, microphone and
connection since a time; a span when the server could not be read), free of any product's words,
so `rules/` never learns which server it runs on. `identity` maps the call server's names to
Matrix rooms and users the way Element Call and its token service form them. `livekit` reads a
LiveKit server (the SFU that Element Call uses) through its own API: read only, it never joins a
call and never receives media.
"""
