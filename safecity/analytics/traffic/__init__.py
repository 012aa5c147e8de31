"""Traffic analytics: counting lines and zones, section speed."""
