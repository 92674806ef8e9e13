"""Broadcasts: one message, in each participant's language, to a filtered audience of a
flow, written to the outbox in bulk and sent at most once to each person, resumably."""
