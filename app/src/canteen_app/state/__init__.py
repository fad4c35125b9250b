"""The app's state and API logic, in plain Python (no Flet): tested without rendering."""
