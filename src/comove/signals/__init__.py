"""Signals: named conditions → checklist → state (rules), and what they were worth (evaluate)."""
