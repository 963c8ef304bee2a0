"""Publishing the book past `make book`: notebook copies of the chapters for the launch buttons,
one PDF of the whole book, and the Sphinx extension the single-page build needs for that PDF.

Guarantee: run from a checkout (`make notebooks`, `make pdf`), these read the checkout's
_toc.yml, _config.yml and requirements.txt and write only book/*.ipynb and _build/.
"""
