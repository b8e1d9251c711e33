#!/usr/bin/env bash
set -euo pipefail

# Only for modules whose go directive is below 1.25
go get go.uber.org/automaxprocs
