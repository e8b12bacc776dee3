"""Controllers: the decisions (planning, restart policy, dependency gating, garbage)."""
