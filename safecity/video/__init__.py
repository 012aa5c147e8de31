"""Video without analysis: one connection per camera whose packets are remuxed (never decoded) into
recorded segments and a live view, and clips cut from the recordings for playback.

Modules: `boxes` (MP4 box reading), `feed` (a camera's packets, reconnecting), `segments`
(the recorder), `live` (fragmented MP4 for the browser's Media Source Extensions), `clips`
(playback and alert clips from recorded segments), `hub` (the feeds of a city, started on demand).
"""
