from pprfeed.cli import main

raise SystemExit(main())
