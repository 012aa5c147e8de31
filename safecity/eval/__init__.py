"""Accuracy evaluation: the plate reader on labelled images, the pipeline against the sim's ground truth."""
