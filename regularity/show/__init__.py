"""Stage 4, showing: videos and GIFs, plots, dataset previews, reports."""
