from __future__ import annotations

from relaygate.cli import main

raise SystemExit(main())
