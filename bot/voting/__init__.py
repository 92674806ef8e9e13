"""Peer voting on ideas: which pair to show next, and what the votes say.

Pure computation over counts; storage and the conversation use it (issue 4 in progress).
"""
