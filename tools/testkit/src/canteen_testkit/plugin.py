"""The pytest plugin of the workspace (entry point `pytest11`: canteen)."""
