"""Datasets: test sets of datapoints (inputs, chat messages, an expected output).

Pure: checking a datapoint against the shapes the hosted product's SDKs read back
(``datapoints.py``, ``messages.py``), reading CSV and JSONL files line by line with every
bad line reported by its number (``importer.py`` and the formats), and writing them back.
The store keeps them (``store/datasets.py``); ``control/datasets_api.py`` serves them.
"""
