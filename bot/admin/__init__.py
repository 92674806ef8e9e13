"""Admins in the chat: ``/stats``, ``/pending`` (moderate ideas with buttons),
``/results``, ``/broadcast`` (a prepared file or a new message, its audience counted and
confirmed) and ``/close PHASE``, for the addresses named in ``KOLOT_ADMINS``. Each admin
action is recorded in the audit trail (``kolot audit``), with the action's transaction.

The modules: :mod:`~bot.admin.desk` (who is an admin, which input is a command; the
``Service.admin`` hook), :mod:`~bot.admin.turn` (answering in the input's transaction;
the conversation state kept in the admin's own outbox rows), one module per command
family (:mod:`~bot.admin.reports`, :mod:`~bot.admin.ideas`,
:mod:`~bot.admin.broadcasting`), and :mod:`~bot.admin.texts`.
"""

from bot.admin.desk import COMMANDS, Desk

__all__ = ["COMMANDS", "Desk"]
