"""The creativity league: every model family on every held-out class, one protocol, one table
(`make league`, `python -m league`)."""
