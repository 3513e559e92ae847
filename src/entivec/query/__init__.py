"""The query layer: sentence and entity search with fusion (:mod:`~entivec.query.search`),
routing by retrieved neighbours (:mod:`~entivec.annotation.routing`) and its language-ID
fallbacks (:mod:`~entivec.annotation.langid`), exemplar expansion
(:mod:`~entivec.query.exemplars`, with the LM of :mod:`~entivec.query.language_model`),
demonstration prompts (:mod:`~entivec.query.prompts`) and extraction with the routed
adapter (:mod:`~entivec.annotation.extraction`)."""
