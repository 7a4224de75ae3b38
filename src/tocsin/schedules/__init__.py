"""On-call schedules: layers, rotations, overrides, time off; pure rules in ``rules``."""
