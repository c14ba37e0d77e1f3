"""The pyuvm environment of ``chip_top``, one component per file (wiring: ``env.py``)."""
