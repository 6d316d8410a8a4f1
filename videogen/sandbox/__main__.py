"""``python -m videogen.sandbox [--port 8765] [--time-scale 0.01] ...``"""

import sys

from .cli import main

sys.exit(main())
