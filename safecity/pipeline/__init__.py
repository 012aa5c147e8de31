"""Per-camera runtime: source -> motion gate -> analysers -> sink, with run statistics."""
