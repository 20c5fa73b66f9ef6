"""Recipes: a dataset as references plus annotations, without its media (issue 16).

``export_recipe`` writes a dataset's recipe (JSON Lines: its sources' URLs, SHA-256 and
sizes, the cue rows, votes, build options and task requests), ``fetch_recipe`` downloads
the sources it lists into a folder, checked by SHA-256 (``empathynet fetch``), and
``build_from_recipe`` rebuilds the same cue groups, labels and task items from them.
"""

from empathynet.recipes.fetch import (
    OUTCOMES,
    DownloadedFile,
    Downloader,
    DownloadError,
    DownloadRequest,
    FetchOutcome,
    FetchResult,
    HttpDownloader,
    YtDlpDownloader,
    downloader_for,
    fetch_recipe,
)
from empathynet.recipes.rebuild import (
    RecipeBuild,
    build_from_recipe,
    planned_sources,
    recipe_config,
)
from empathynet.recipes.recipe import (
    CUE_COLUMNS,
    RECIPE_FORMAT,
    RECIPE_FORMAT_VERSION,
    Recipe,
    RecipeCue,
    RecipeError,
    RecipeExport,
    RecipeSource,
    export_recipe,
    read_recipe,
    recipe_lines,
)

__all__ = [
    "CUE_COLUMNS",
    "OUTCOMES",
    "RECIPE_FORMAT",
    "RECIPE_FORMAT_VERSION",
    "DownloadError",
    "DownloadRequest",
    "DownloadedFile",
    "Downloader",
    "FetchOutcome",
    "FetchResult",
    "HttpDownloader",
    "Recipe",
    "RecipeBuild",
    "RecipeCue",
    "RecipeError",
    "RecipeExport",
    "RecipeSource",
    "YtDlpDownloader",
    "build_from_recipe",
    "downloader_for",
    "export_recipe",
    "fetch_recipe",
    "planned_sources",
    "read_recipe",
    "recipe_config",
    "recipe_lines",
]
