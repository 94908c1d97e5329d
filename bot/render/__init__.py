"""Rendering: one Analysis as a terminal report, Slack blocks, an Adaptive Card or an e-mail (pure functions)."""

from bot.render.email import email_html, email_subject, email_text
from bot.render.slack import slack_blocks
from bot.render.teams import teams_card

__all__ = ["email_html", "email_subject", "email_text", "slack_blocks", "teams_card"]
