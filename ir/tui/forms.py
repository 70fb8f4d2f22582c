"""Whether a person is filling something in: then keys that leave the screen must not fire."""

from __future__ import annotations

from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, RadioButton, RadioSet, Select, SelectionList, Switch, TextArea

FORM_WIDGETS = (Input, TextArea, RadioSet, RadioButton, Checkbox, Select, SelectionList, Switch)
"""Widgets a person types or chooses in: a letter key there belongs to the form."""


def form_open(screen: Screen[object], focused: Widget | None) -> bool:
    """True while a modal is open, or focus is in a form field (or anything inside one)."""
    if isinstance(screen, ModalScreen):
        return True
    node: Widget | None = focused
    while node is not None:
        if isinstance(node, FORM_WIDGETS):
            return True
        parent = node.parent
        node = parent if isinstance(parent, Widget) else None
    return False
