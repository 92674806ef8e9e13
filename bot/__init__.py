"""Kolot: a participation channel as a chatbot."""
