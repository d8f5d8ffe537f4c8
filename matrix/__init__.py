"""The Matrix transport: the only code that imports nio. `content` shapes what is sent (from the
shell's neutral records); `reading` reads what the rooms say into neutral records; `client` logs
in and syncs; `sending` sends what the shell owes; `rtc` reads call memberships."""
