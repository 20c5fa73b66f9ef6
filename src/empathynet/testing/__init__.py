"""Small fixtures for tests and benchmarks: synthetic datasets (``synthetic``) and datasets
made from the real labelled material in ``../shared/data`` (``realdata``).

The demo's media generator (a real face photo, a synthetic voice, subtitles) is
``empathynet.demo`` (extra ``demo``).
"""
