"""Scale-out: cameras on Ray actors across machines (`ray_pool.RayWorkers`, `actor.py`), recordings
analysed on a cluster, and the city-sized load simulation (`load.py`, `safecity sim load`)."""
