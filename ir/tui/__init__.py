"""The responder's console: a Textual terminal UI over the same engine as the command line."""
