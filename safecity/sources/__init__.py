"""Video sources: files (and later RTSP/HTTP streams) decoded with PyAV into timestamped, sampled frames."""
