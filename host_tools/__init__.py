"""Sprintwatch laptop tools: simulator driver, plan checker, sync, export and plots."""
