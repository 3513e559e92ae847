"""NER with one LoRA adapter per language: the torch-free tagging core
(:mod:`~entivec.ner.tagging`), the adapter registry (:mod:`~entivec.ner.adapters`), the
onnxruntime engine (:mod:`~entivec.ner.onnx_engine`, the default) and the PyTorch/PEFT
engine (:mod:`~entivec.ner.peft_engine`, behind the ``export`` extra)."""
