"""What a stage feeds a model: facts and conditions as given by a caller, and prompts rendered from them.

Shared by the stages that run models (``extract``, ``elicit``, ``trace``), so none imports another.
"""
