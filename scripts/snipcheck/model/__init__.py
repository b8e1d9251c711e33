"""DECLARE — what a snippet is: its manifest entry, the checks it may name and their settings, the pages that
include it, the figures a page may quote. Imports no other wing.
"""
