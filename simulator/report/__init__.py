"""What people see: the live run dashboard (and, later, score cards and reports)."""
