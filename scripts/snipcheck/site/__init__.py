"""SHOW — what the site build adds to the pages: proof lines under code blocks, measured figures, charts, the
verification page, the publishing rules and the built HTML's checks.
"""
