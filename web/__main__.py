"""`python -m web` is the `atende` command."""

import sys

from web.cli import main

sys.exit(main())
