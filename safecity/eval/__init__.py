"""Accuracy evaluation (`safecity eval`): the plate reader on labelled sets beside the naive OCR
baseline, face verification, identification and the open-set watchlist rule (DET), and the
pipeline against the synthetic city's ground truth."""
