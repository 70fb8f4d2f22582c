"""Timeline reconstruction: parse every log source of an agent, merge, correlate, detect, export."""
