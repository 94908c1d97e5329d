"""Microsoft Teams through the Bot Framework SDK (botbuilder-core).

Microsoft archived this SDK (its successor is the Microsoft 365 Agents SDK): every ``botbuilder`` /
``botframework`` import of Sherlog lives in this folder, so swapping the SDK touches nothing else.

- ``bot.SherlogTeamsBot``: the ``ActivityHandler`` (commands, questions, Adaptive Card votes).
- ``notifier.TeamsNotifier``: proactive incident cards through stored conversation references.
- ``routes``: ``POST /api/messages`` (Bot Framework JWT auth) and ``install(app)``.
"""
