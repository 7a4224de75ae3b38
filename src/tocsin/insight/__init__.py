"""Read-only insight over the other slices: readiness (and later MTTA/MTTR, on-call load, noise)."""
