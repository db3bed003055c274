from __future__ import annotations

import sys

from .harness import main

sys.exit(main())
