"""Notifiers: tell admins about exposures (console, Slack, e-mail, webhook)."""
