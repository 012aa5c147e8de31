"""Licence plates: the reader (localise, recognise, validate), country formats, OCR confusions, voting.

`reader.PlateReader` reads plates in frames with the PP-OCR models shipped in the `rapidocr` wheel
(`ocr`), found by `localise` and cleaned by `glyphs`; `formats` validates and corrects readings.
"""
