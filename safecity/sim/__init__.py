"""Synthetic city: a seeded scenario on Belgrade roads rendered to H.264 clips with ground truth.
"""
