"""The ``empathynet`` command line: thin over the Python API."""
