"""`python -m bot run`: start the assistant and its demo page until Ctrl-C."""

import sys

from bot.launcher.cli import main

sys.exit(main())
