"""The paths platforms post to, shared by the web app and what registers them."""

__all__ = ["DATA", "MEDIA", "TELEGRAM_WEBHOOK", "TWILIO_STATUS", "WHATSAPP_WEBHOOK"]

TELEGRAM_WEBHOOK = "/telegram/webhook"
WHATSAPP_WEBHOOK = "/twilio/whatsapp"
TWILIO_STATUS = "/twilio/status"
"""Twilio's delivery reports (status callbacks) for the messages we send."""
MEDIA = "/media"
"""Pictures Kolot made for participants (results charts), for platforms that fetch them."""
DATA = "data"
"""Under ``MEDIA``: a participant's own data file (``/mydata``), ``data/<row>/<token>``, for
a platform that fetches files by URL; served from the outbox row, briefly."""
