"""`python -m checkd` runs the checkd command."""

from checkd.cli import main

raise SystemExit(main())
