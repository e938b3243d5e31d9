"""The 24/7 emotion monitor: audio sources, segmentation, recognition, storage and reactions."""
