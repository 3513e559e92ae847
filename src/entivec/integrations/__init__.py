"""entivec inside the frameworks people already use with Qdrant.

- :mod:`entivec.integrations.langchain`: ``Embeddings``, ``SparseEmbeddings`` and a
  retriever (``pip install 'entivec[langchain]'``);
- :mod:`entivec.integrations.llama_index`: a ``BaseEmbedding``, BM25's sparse functions
  and a retriever (``pip install 'entivec[llama-index]'``);
- :mod:`entivec.integrations.haystack`: a text and a document embedder component
  (``pip install 'entivec[haystack]'``).

Each module imports its framework at the top and says which extra installs it when the
framework is missing; nothing else in entivec imports them. Recipes: docs/integrations.md.
"""
