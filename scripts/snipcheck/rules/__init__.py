"""KEEP HONEST — rules over the whole tree: pages hold only includes, every snippet declared and included in both
languages, every block of the original mapped, cross-file consistency.
"""
