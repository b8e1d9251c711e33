"""BILINGUAL — the Russian comment catalogs (finding comments, rendering a snippet with their text, checking
them) and the parity of the Russian and English pages.
"""
