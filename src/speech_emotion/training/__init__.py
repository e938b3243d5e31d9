"""Training the ACRNN on corpora: feature cache, normalised windows, balanced batches, the resumable loop."""
