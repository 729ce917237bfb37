"""Errors meant for people: the CLI prints their message without a traceback."""


class UsageError(Exception):
    """Bad input from the user; the message names the value and says what to do."""
