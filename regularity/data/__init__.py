"""Stage 1, data: datasets and their readers, fetching, preprocessing, the clip store, windows."""

from regularity.data.base import Color, Dataset, Split, Video
from regularity.data.registry import available_datasets, load_dataset
from regularity.data.synthetic import WalkwaySpec, generate_walkway

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
