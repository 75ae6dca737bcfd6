"""Old command: a retention unit a clinic installed from deploy/ before runs `python -m bot.conversations retention`
(units are copied to /etc/systemd/system, so an update does not change them). The command is in
bot/rasa_ext/conversations.py; this module keeps the old one working."""

import sys

from bot.rasa_ext.conversations import main

if __name__ == "__main__":
    sys.exit(main())
