"""The incident report: built from a verified case's journal and files, written as md, html or json.

A layer of its own (it reads the timeline a case recorded, so it is not core): it imports
`ir.core` and `ir.timeline`, never the console, the command line, backends or actions.
"""
