"""People: the subscriber store, signup and consent, tokens, preferences, unsubscribe, web."""
