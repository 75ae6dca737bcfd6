"""Old class paths: a clinic's credentials file may name `bot.channels.RestInput` and `bot.channels.SocketIOInput`,
and Rasa imports the classes by those strings. The channels are in bot/rasa_ext/channels.py; this line keeps the
old names working (two lines, one per class)."""

from bot.rasa_ext.channels import RestInput as RestInput
from bot.rasa_ext.channels import SocketIOInput as SocketIOInput
