"""Dialogs and file handling of the main window."""
