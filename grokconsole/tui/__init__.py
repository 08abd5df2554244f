"""``grok watch``: the live Textual console (imports Textual; the CLI loads it inside the command)."""
