"""Scale-out: the city-sized data path (load simulation now; Ray actors and PostgreSQL at scale next)."""
