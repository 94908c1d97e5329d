"""bot/surfaces."""
