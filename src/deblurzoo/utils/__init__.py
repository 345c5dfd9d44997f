"""Helpers of the entry points: instantiation, provenance, checkpoints, reports."""
