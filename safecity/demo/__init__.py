"""`make demo`: a synthetic city rendered, registered, processed and scored, then served with its
cameras live (`run.py`: looping RTSP cameras, the live runtime, recorders), with its traffic part
(`traffic.py`: counting lines, speed sections, speeding alerts)."""
