"""Service standards, SLA policies and clocks on business time (PL2, DO3)."""
