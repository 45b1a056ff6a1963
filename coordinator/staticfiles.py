"""Django's static files app, configured for the bundles built by ``make assets``."""

from __future__ import annotations

from django.contrib.staticfiles.apps import StaticFilesConfig as BaseStaticFilesConfig


class StaticFilesConfig(BaseStaticFilesConfig):
    """Django's static files, without the sources of the bundles built by ``make assets`` (``*-src/`` beside
    the bundle, with their ``node_modules``): only the built files are collected and served."""

    ignore_patterns = [*BaseStaticFilesConfig.ignore_patterns, "*-src", "node_modules"]
