"""The edge: plots, the audition widget and the command line.

They call the public functions only. ``plot`` needs matplotlib and
``widgets`` ipywidgets (the ``[notebooks]`` extra); both are imported when
their functions run.

Examples
--------
>>> from audiolab.ui import plot
>>> callable(plot.loudness)
True
"""
