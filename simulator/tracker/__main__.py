from simulator.tracker.server import main

raise SystemExit(main())
