"""The pages every feature shares, one module per family: ``home`` (start page with the features' panels,
programme and language switches), ``me`` (my page and settings), ``notifications``, ``barometer``, ``feed``
(the personal calendar subscription) and ``health``. They gather what the features contribute through the
registry and import no feature.
"""
