"""Scoring model bundles on corpora: metrics, normalisation protocols, leave-one-corpus-out."""
