"""What every stage's results share: column names, the significance and verdict rules, number formats, and
the report's document blocks (so that each analysis can write its own section).

Below the stages that write results (``elicit``, ``analyses``) and those that read them (``report``,
``compare``, the CLI), so that each reads the one rule instead of keeping a copy.
"""
