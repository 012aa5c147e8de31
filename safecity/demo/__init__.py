"""`make demo`: a synthetic city rendered, registered, processed and scored (`run.py`), with its
traffic part (`traffic.py`: counting lines, speed sections, speeding alerts)."""
