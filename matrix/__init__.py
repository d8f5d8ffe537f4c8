"""The Matrix transport: the only code that imports nio. `content` shapes what is sent;
`client` logs in, syncs, hands each event to the shell and sends what the shell owes."""
