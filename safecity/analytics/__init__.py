"""Analysers that turn frames into observations: the motion gate and tracker, licence plates
(`plates/`: detection, reading, formats, per-track vote), faces (`faces/`: detection, alignment,
quality, embedding, passages) and traffic (`traffic/`: counting lines and zones, speeds).
Nothing here touches the database or knows who is on a watchlist."""
