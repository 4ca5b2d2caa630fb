"""Workforce planning: queueing maths for staffing (Erlang B, C and A)."""
