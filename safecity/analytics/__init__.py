"""Analysers that turn frames into observations: motion, tracking (plates, faces and traffic follow)."""
