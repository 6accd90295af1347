"""What every stage's results share: column names, the significance and verdict rules, number formats.

Below the stages that write results (``elicit``, ``analyses``) and those that read them (``report``,
``compare``, the CLI), so that each reads the one rule instead of keeping a copy.
"""
