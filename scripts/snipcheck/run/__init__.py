"""RECORD — one run's facts: its ids, the report written and read, the changed-only selection, the caches' state,
free disk, CPU accounting, tool versions.
"""
