# shellcheck shell=bash
# Text several pages of docs/lab share; scripts/gen-lab-docs sources this file before the pages
# (files whose name starts with `_` are not pages).

# The note at the top of each trace page.
# shellcheck disable=SC2016,SC2034 # backquotes are Markdown; used by the sheet2-trace* pages
TRNOTE='The traces are the textbook'"'"'s (CNP3, "The transport layer"), in `../shared/traces/cnp3` (see `/work/shared/README.md`); the commands below run in a directory with a link to each.'
