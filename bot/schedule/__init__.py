"""Time in a participation process: phases, reminders, broadcasts due. The database holds
what is due; :mod:`.clock` ticks (APScheduler) and :mod:`.tick` does what has come due."""
