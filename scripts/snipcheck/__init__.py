"""snipcheck: the machinery behind the validated chapter.

One module per job: paths (where things are), manifest (what every snippet is and
what proves it), docker (the one wrapper around the Docker CLI), report (the one
report writer), imagekit (base images without a registry).
"""
