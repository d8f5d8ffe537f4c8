"""What the video call's own server shows of sound and picture: the media port's LiveKit side.

What it reads reaches the shell as the neutral records of `shell.ports` (a person's camera,
microphone and connection since a time, `Seen`; a span when the server could not be read,
`Unavailable`), free of any product's words and shapes, so neither the shell nor `rules/`
learns which server it runs on. `record` holds one server connection before it is tied to a
person; `identity` maps the call server's names to Matrix rooms and users the way Element Call
and its token service form them; `livekit` reads a LiveKit server (the SFU that Element Call
uses) through its own API: read only, it never joins a call and never receives media.
"""
