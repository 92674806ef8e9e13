"""The WhatsApp channel through Twilio: incoming forms read (:mod:`.inbound`), messages
shaped for WhatsApp's rules (:mod:`.render`) and sent with the official SDK inside the
24-hour window or as approved templates outside it (:mod:`.client`, :mod:`.templates`)."""

from bot.channels.whatsapp.client import WINDOW, WhatsAppChannel, held_reason, twilio_client
from bot.channels.whatsapp.inbound import CHANNEL as WHATSAPP
from bot.channels.whatsapp.inbound import read_message
from bot.channels.whatsapp.render import render
from bot.channels.whatsapp.templates import Templates

__all__ = [
    "WHATSAPP",
    "WINDOW",
    "Templates",
    "WhatsAppChannel",
    "held_reason",
    "read_message",
    "render",
    "twilio_client",
]
