"""snipcheck: the machinery behind the validated chapter, grouped by the stages a snippet goes through.

    model/    DECLARE     what a snippet is: manifests, checks and their settings, pages, figures
    i18n/     BILINGUAL   Russian comment catalogs, page parity, translation stamps
    run/      RECORD      one run's facts: ids, the report, the changed-only selection, caches, disk, CPU
    rules/    KEEP HONEST rules over the whole tree (inventory, block map, cross-file consistency)
    harness/  PROVE       drivers of the real tools: processes, docker/, imagekit/, kube/
    site/     SHOW        what the site build adds: proof lines, measured figures, charts, verification
    explain, scaffold, __main__   the contributor's commands (python -m snipcheck --help)

The import rule (tests/inventory/machinery/test_import_direction.py checks it from the source):

    model  <-  i18n, run  <-  rules, harness, site  <-  explain, scaffold, the CLI

A wing imports only itself and the wings to its left; nothing here imports pytest. The walk of one snippet
through the wings, and every SNIPCHECK_* setting: scripts/snipcheck/README.md.
"""
