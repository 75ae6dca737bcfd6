"""`python -m bot run`: start the assistant and its demo page until Ctrl-C."""

import sys

from bot.cli import main

sys.exit(main())
