"""The lab: every paper reproduction and metric, behind the ``eval`` extra.

``entivec eval ...`` (:mod:`entivec.lab.commands`) runs them; the product
(``entivec``, ``plugins``, ``loaders``) never imports this package.
"""
