"""Build bookkeeping under `.cache/`: what lets a rebuild redo only what changed.

`chapters` keeps pandoc's output per chapter (`.cache/chapters/`), `stamps` what each
output was built from (`.cache/outputs/`), and `keys` the hashes both are keyed by.
"""
