"""Video sources: files and live RTSP/HTTP(S) streams decoded with PyAV into timestamped, sampled frames.

`file.FileSource` reads a recording; `live.LiveSource` follows a camera on a reader thread,
reconnecting with backoff and reporting its state; `factory.open_source` picks one for an address."""
