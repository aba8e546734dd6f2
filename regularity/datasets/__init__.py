"""Datasets: readers for UCSD, Avenue and video folders, the synthetic walkway, fetching."""

from regularity.datasets.base import Color, Dataset, Split, Video
from regularity.datasets.registry import available_datasets, load_dataset
from regularity.datasets.synthetic import WalkwaySpec, generate_walkway

__all__ = [
    "Color",
    "Dataset",
    "Split",
    "Video",
    "WalkwaySpec",
    "available_datasets",
    "generate_walkway",
    "load_dataset",
]
