"""The errata's evidence as links: `tests/x.py::test_name` in a row becomes a link to the test's source at
the commit the report was made from (like the proof lines' test links), so a reader goes from the row to
the code that shows the original failing. Without a repository URL (a local build) the text stays as is."""

from __future__ import annotations

import re

TEST_REF = re.compile(r"(?<!\[)`(tests/[\w/.-]+\.py)((?:::\w+)?)`")


def link_tests(markdown: str, repo_url: str | None, ref: str) -> str:
    if not repo_url:
        return markdown
    base = f"{repo_url.rstrip('/')}/blob/{ref}/"

    def link(m: re.Match[str]) -> str:
        return f"[`{m[1]}{m[2]}`]({base}{m[1]})"

    return TEST_REF.sub(link, markdown)
