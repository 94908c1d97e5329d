"""Slack: Bolt (async) app over HTTP on the FastAPI app or over Socket Mode, auto-posts, commands, buttons.

- ``client.build_client``: the ``AsyncWebClient`` with retry handlers (429 Retry-After, 5xx, connection).
- ``poster.SlackPoster``: exactly-once incident posts, edits and thread replies, retries after outages.
- ``app.build_slack_app``: the Bolt app (``/sherlog``, mentions, DMs, vote buttons).
- ``routes``: the FastAPI router (``POST /slack/events``) and ``install(app)``.
- ``socket_mode``: the Socket Mode entry point (``sherlog slack-socket``).
"""
