"""The anchor of bench/side_by_side.py: a bare Django project with django-cookie-consent 1.0.

It runs in a virtual environment of its own (var/bench-anchor-venv, made by the benchmark),
never in the portal's: nothing of the portal is installed or imported here.
"""
