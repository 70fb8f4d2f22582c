"""Headless containment from alerts: receive → inbox → normalise → resolve → route → case.

Each stage is its own module; `ir contain` (no HTTP) and `ir serve` share every stage after
receiving. The engine is reached only through `executor.Executor`.
"""
