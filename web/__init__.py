"""The live view (`[web]`): the bot's own web server, the widget page and its event stream."""
